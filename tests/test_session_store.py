"""portal.sessions: Django's database sessions, read with a statement written once.

Each case is checked against Django's own store on the same row.
"""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from portal.sessions import SessionStore


@pytest.fixture
def saved(db):
    store = SessionStore()
    store["_auth_user_id"] = "42"
    store["note"] = 'a<b & "c" ü'
    store.save()
    return store.session_key


def _both(key):
    ours, django = SessionStore(key), DjangoStore(key)
    return (ours.load(), ours.session_key), (django.load(), django.session_key)


def test_a_session_reads_as_djangos_store_reads_it(saved):
    ours, django = _both(saved)
    assert ours == django
    assert ours[0] == {"_auth_user_id": "42", "note": 'a<b & "c" ü'}


def test_an_expired_session_is_empty_and_loses_its_key(saved):
    Session.objects.filter(pk=saved).update(expire_date=timezone.now() - timedelta(seconds=1))
    ours, django = _both(saved)
    assert ours == django == ({}, None)


def test_an_unknown_or_tampered_session_is_empty(saved):
    assert _both("x" * 32)[0] == ({}, None)
    Session.objects.filter(pk=saved).update(session_data="not-signed")
    ours, django = _both(saved)
    assert ours == django
    assert ours[0] == {}


def test_sessions_are_still_written_to_the_database(saved, client, settings):
    assert settings.SESSION_ENGINE == "portal.sessions"
    store = SessionStore(saved)
    store["more"] = 1
    store.save()
    assert DjangoStore(saved).load()["more"] == 1
    store.delete()
    assert not Session.objects.filter(pk=saved).exists()

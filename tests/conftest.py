import os

import pytest


@pytest.fixture(autouse=True)
def _media_and_mail(settings, tmp_path):
    """Uploads go to a per-test folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped, with the reason, on other databases."""
    from django.conf import settings

    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if "postgresql" in vendor:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL to run it)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _reference_data(request):
    """The rows the data migrations create (roles, statuses, the first type), in every test.

    A transactional test flushes the database when it ends; serialized rollback is meant to
    restore such rows, but after a browser test (Playwright's event loop in this thread) Django
    hands out a new connection without the serialized contents. So every database test checks
    with one query and, when the rows are gone, re-runs the migrations' own idempotent functions.
    """
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not uses_db:
        return
    request.getfixturevalue("_django_db_helper")
    from django.contrib.auth.models import Group

    if Group.objects.filter(name="Support agent").exists():
        return
    from importlib import import_module

    from django.apps import apps

    import_module("tickets.migrations.0003_basic_right_roles").create_roles(apps, None)
    import_module("tickets.migrations.0004_initial_statuses_and_types").create(apps, None)
    import_module("tickets.migrations.0005_desk_permission").grant_desk_to_support_agents(
        apps, None
    )


@pytest.fixture
def on_postgres():
    from django.db import connection

    return connection.vendor == "postgresql"


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")

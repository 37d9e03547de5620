"""Effective access on the external user's admin page: what the user can reach, from the policy.

* The summary shows the address sets with their sites, the basic rights, filing (and the first
  reason it is impossible), recipients, types, statuses and the counts of visible objects —
  each equal to what the policy's faces give.
* After a failed save it shows the access of the values entered, and nothing is saved: no row,
  no relation, no audit entry, no mail.
* Its number of queries does not grow with the number of addresses.
"""

import re
from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from access import policy
from accounts.models import AccessChange, User
from addresses.models import ContactPerson, Machine
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    TeamFactory,
    TicketFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
    role,
)
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db

M2M_FIELDS = (
    "read_addresses",
    "write_addresses",
    "responsible_teams",
    "responsible_users",
    "ticket_types",
    "allowed_statuses",
    "groups",
)


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


def text(html):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", str(html))).split())


def summary_text(response):
    return text(response.context["access_summary"])


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def world():
    headquarters = AddressFactory(number="10001", name="Acme Maschinenbau GmbH")
    site = AddressFactory(number="10002", name="Acme Werk Süd", parent=headquarters)
    branch = AddressFactory(number="10023", name="Acme Niederlassung Nord")
    closed = AddressFactory(number="10099", name="Acme Altwerk", is_active=False)
    team = TeamFactory(name="Service")
    disbanded = TeamFactory(name="Old service", is_active=False)
    agent = UserFactory(email="agent@example.com", first_name="Anna", last_name="Agent")
    repair = TicketTypeFactory(name="Repair")
    retired = TicketTypeFactory(name="Retired type", is_active=False)
    handled = TicketStatusFactory(name="Being handled")
    customer = ExternalUserFactory(
        email="erika@example.com",
        first_name="Erika",
        last_name="Kunde",
        address=headquarters,
        roles=["Portal user"],
        write=[headquarters],
        read=[branch, closed],
        teams=[team, disbanded],
        recipients=[agent],
        types=[repair, retired],
        restrict_status=True,
        statuses=[handled],
    )
    contact = ContactPersonFactory(address=headquarters, first_name="Erika", last_name="Kunde")
    customer.contact_person = contact
    customer.save()
    for address in (headquarters, branch, site, closed):
        TicketFactory(address=address, type=repair, responsible_team=team)
        MachineFactory(address=address)
    return {
        "customer": User.objects.get(pk=customer.pk),
        "headquarters": headquarters,
        "site": site,
        "branch": branch,
        "closed": closed,
        "team": team,
        "agent": agent,
        "repair": repair,
        "handled": handled,
        "contact": contact,
    }


def test_summary_on_the_change_page(staff_client, world):
    response = staff_client.get(change_url(world["customer"]))
    assert response.status_code == 200
    shown = summary_text(response)
    customer = world["customer"]

    assert "Effective access" in shown
    assert "Portal: allowed: an active external user" in shown
    assert "Home address: 10001 Acme Maschinenbau GmbH — in the write set" in shown
    # Addresses with their sites: the headquarters is writable, its site in no set.
    assert "10001 Acme Maschinenbau GmbH Berlin" in shown
    assert "read and write" in shown and "10002 (not in the sets)" in shown
    assert "10023 Acme Niederlassung Nord" in shown
    assert "10099 Acme Altwerk Berlin" in shown and "nothing (inactive address)" in shown
    assert "Roles: Portal user" in shown
    assert "File tickets: allowed: the user may file tickets" in shown
    assert "Recipients: Old service (not in effect), Service, Anna Agent" in shown
    assert "Ticket types: Repair, Retired type (not in effect)" in shown
    assert "Restricted to: Being handled" in shown
    assert "May set: Being handled" in shown
    # The counts are the scoped querysets'.
    counts = (
        Ticket.objects.visible_to(customer).count(),
        Ticket.objects.writable_by(customer).count(),
        Machine.objects.visible_to(customer).count(),
        ContactPerson.objects.visible_to(customer).count(),
    )
    assert counts == (2, 1, 2, 1)
    assert "2 tickets (1 it may answer), 2 machines, 1 contact persons, 2 addresses" in shown
    assert f"{world['contact']} — see: allowed" in shown


def test_the_summary_is_the_policys_own_answer(world):
    """The summary's flags are the policy's predicates and faces, not a second opinion."""
    customer = world["customer"]
    summary = policy.AccessSummary(customer)
    for address in summary.addresses:
        assert address.readable == bool(policy.can_see_address(customer, address))
        assert address.readable == bool(policy.can_see_machine(customer, Machine(address=address)))
        assert address.writable == bool(
            policy.can_file_ticket(
                customer, address=address, ticket_type=world["repair"], team=world["team"]
            )
        )
    assert summary.filing == policy.can_file(customer)
    assert [s.pk for s in summary.settable_statuses] == list(
        TicketStatus.objects.settable_by(customer).values_list("pk", flat=True)
    )
    for right in policy.RIGHT_LABELS:
        assert summary.holds(right) == customer.has_perm(right)


def test_summary_gives_the_first_reason_filing_is_impossible(staff_client, world):
    world["customer"].ticket_types.clear()
    shown = summary_text(staff_client.get(change_url(world["customer"])))
    assert "File tickets: denied: no active ticket type is allowed" in shown
    assert "Ticket types: —" in shown


def test_summary_of_an_inactive_user_says_it_reaches_nothing(staff_client, world):
    User.objects.filter(pk=world["customer"].pk).update(is_active=False)
    shown = summary_text(staff_client.get(change_url(world["customer"])))
    assert "Portal: denied: the account is inactive or not signed in" in shown
    assert "0 tickets (0 it may answer), 0 machines, 0 contact persons, 0 addresses" in shown


def test_no_summary_for_internal_users(staff_client, world):
    response = staff_client.get(change_url(world["agent"]))
    assert response.status_code == 200
    assert "access_summary" not in response.context or not response.context["access_summary"]


def test_a_viewer_sees_the_summary_and_the_links(client, world):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    response = client.get(change_url(world["customer"]))
    assert response.status_code == 200
    assert "Effective access" in summary_text(response)
    html = response.content.decode()
    assert reverse("admin:accounts_user_explain") + f"?user={world['customer'].pk}" in html
    assert "Access changes" in html


def _summary_queries(client, user, django_assert_max_num_queries):
    url = change_url(user)
    client.get(url)  # warm caches (content types, session)
    with django_assert_max_num_queries(100) as captured:
        response = client.get(url)
    assert "Effective access" in summary_text(response)
    return len(captured)


def test_summary_queries_do_not_grow_with_addresses(staff_client, django_assert_max_num_queries):
    same = {"roles": ["Portal editor"], "types": [TicketTypeFactory()], "teams": [TeamFactory()]}
    # Both users have every kind of relation filled in, so the form's own widgets query alike.
    small = ExternalUserFactory(
        read=[AddressFactory(parent=AddressFactory())],
        write=[AddressFactory(parent=AddressFactory())],
        **same,
    )
    many = [AddressFactory(parent=AddressFactory()) for _ in range(50)]
    large = ExternalUserFactory(read=many[:25], write=many[25:], **same)
    for address in many:
        TicketFactory(address=address)

    baseline = _summary_queries(staff_client, small, django_assert_max_num_queries)
    with django_assert_max_num_queries(baseline):
        response = staff_client.get(change_url(large))
    assert len(response.context["access_summary"].split("<tr>")) > 50


def test_the_summary_alone_runs_a_fixed_number_of_queries(django_assert_max_num_queries):
    many = [AddressFactory(parent=AddressFactory()) for _ in range(50)]
    user = ExternalUserFactory(roles=["Portal editor"], read=many[:25], write=many[25:])
    user = User.objects.get(pk=user.pk)
    with django_assert_max_num_queries(30):
        from accounts.transparency import render_summary

        html = render_summary(user)
    assert html.count("<tr>") >= 50


# ---------------------------------------------------------------------------------------------
# After a failed save: the values entered, nothing saved.


def post_data(user, **overrides):
    """The change form's POST with the user's saved values, then `overrides`."""
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language": user.language,
        "is_external": "on" if user.is_external else "",
        "address": user.address_id or "",
        "contact_person": user.contact_person_id or "",
        "restrict_status": "on" if user.restrict_status else "",
        "is_active": "on" if user.is_active else "",
        "_save": "Save",
    }
    for name in M2M_FIELDS:
        data[name] = [str(pk) for pk in getattr(user, name).values_list("pk", flat=True)]
    data.update(overrides)
    return {key: value for key, value in data.items() if value not in ("", None)}


def saved_state(user):
    user = User.objects.get(pk=user.pk)
    state = {
        name: getattr(user, name)
        for name in ("email", "address_id", "contact_person_id", "restrict_status", "is_active")
    }
    for name in M2M_FIELDS:
        state[name] = sorted(getattr(user, name).values_list("pk", flat=True))
    return state


def test_failed_save_shows_the_access_of_the_values_entered(
    staff_client, world, django_capture_on_commit_callbacks
):
    customer = world["customer"]
    other_contact = ContactPersonFactory(address=world["branch"])
    before = saved_state(customer)
    counts = (AccessChange.objects.count(), LogEntry.objects.count(), User.objects.count())
    data = post_data(
        customer,
        write_addresses=[world["headquarters"].pk, world["branch"].pk],
        ticket_types=[],
        groups=[role("Portal editor").pk],
        contact_person=other_contact.pk,  # belongs to another address: the save fails
        send_password_link="on",
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(change_url(customer), data)

    assert response.status_code == 200
    assert "contact_person" in response.context["adminform"].form.errors
    shown = summary_text(response)
    assert "Not saved." in shown
    assert "Fields with errors are taken as they are saved: Contact person." in shown
    # The values entered, as the policy answers them.
    assert "File tickets: denied: no active ticket type is allowed" in shown
    assert "Roles: Portal editor" in shown
    assert "10023 Acme Niederlassung Nord Berlin" in shown
    assert shown.count("Berlin read and write") == 2
    # Nothing persisted, nothing queued.
    assert saved_state(customer) == before
    assert (AccessChange.objects.count(), LogEntry.objects.count(), User.objects.count()) == counts
    assert callbacks == [] and mail.outbox == []
    # The page after the failed save still shows the saved access on the next visit.
    assert "File tickets: allowed" in summary_text(staff_client.get(change_url(customer)))


def test_failed_save_keeps_no_row_of_the_values_entered(client):
    """The savepoint the summary is computed in is rolled back: what it stored is gone again.

    (An ordinary database test: a leftover row would be visible inside the test's transaction.
    Not `transaction=True`: its flush re-creates content types, which breaks the suite's
    `serialized_rollback` tests when they share a worker.)
    """
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    own, other = AddressFactory(number="10001"), AddressFactory(number="10023")
    customer = ExternalUserFactory(address=own, roles=["Portal user"], write=[own])
    before = saved_state(customer)
    changes = AccessChange.objects.count()
    data = post_data(
        customer,
        read_addresses=[other.pk],
        restrict_status="on",  # without a status: the save fails
        groups=[role("Portal editor").pk],
    )

    response = client.post(change_url(customer), data)

    assert "allowed_statuses" in response.context["adminform"].form.errors
    assert "10023" in summary_text(response)
    assert saved_state(customer) == before
    assert AccessChange.objects.count() == changes


def test_failed_add_shows_the_summary_and_creates_nobody(staff_client, world):
    users = User.objects.count()
    data = {
        "email": "new@example.com",
        "first_name": "Neu",
        "last_name": "Kunde",
        "language": "en",
        "send_password_link": "on",
        "password1": "Sturdy-Lantern-4711",  # a password *and* a link: the save fails
        "is_external": "on",
        "address": world["headquarters"].pk,
        "write_addresses": [world["headquarters"].pk],
        "ticket_types": [world["repair"].pk],
        "responsible_teams": [world["team"].pk],
        "groups": [role("Portal user").pk],
        "is_active": "on",
        "_save": "Save",
    }
    response = staff_client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 200
    shown = summary_text(response)
    assert "Not saved." in shown
    assert "File tickets: allowed: the user may file tickets" in shown
    assert User.objects.count() == users
    assert not AccessChange.objects.filter(user_email="new@example.com").exists()


def test_failed_save_that_cannot_be_summarised_says_so(staff_client, world):
    """A new external user without an address cannot even be stored for a moment."""
    users = User.objects.count()
    data = {
        "email": "new@example.com",
        "language": "en",
        "send_password_link": "on",
        "is_external": "on",
        "write_addresses": [world["headquarters"].pk],
        "is_active": "on",
        "_save": "Save",
    }
    response = staff_client.post(reverse("admin:accounts_user_add"), data)
    assert "address" in response.context["adminform"].form.errors
    shown = summary_text(response)
    assert "can be shown once the errors above are corrected" in shown
    assert User.objects.count() == users

"""The audit trail of external users' access: each kind of change, with the values before and
after as an administrator reads them, and who made it — from the admin and from code."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.audit import acting_as
from accounts.models import AccessChange, User
from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
    role,
)

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
CHANGELIST_URL = reverse("admin:accounts_accesschange_changelist")


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


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


def recorded(user):
    return {
        (change.field, change.before, change.after)
        for change in AccessChange.objects.filter(user=user)
    }


@pytest.fixture
def admin_user():
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def world():
    headquarters = AddressFactory(number="10001", name="Acme Maschinenbau GmbH")
    branch = AddressFactory(number="10023", name="Acme Nord")
    other = AddressFactory(number="10030", name="Other AG")
    w = {
        "hq": headquarters,
        "branch": branch,
        "other": other,
        "erika": ContactPersonFactory(address=headquarters, first_name="Erika", last_name="Kunde"),
        "max": ContactPersonFactory(address=headquarters, first_name="Max", last_name="Kunde"),
        "other_contact": ContactPersonFactory(address=other, first_name="Olga", last_name="Other"),
        "service": TeamFactory(name="Service"),
        "field": TeamFactory(name="Field service"),
        "anna": UserFactory(email="anna@example.com", first_name="Anna", last_name="Agent"),
        "bob": UserFactory(email="bob@example.com", first_name="Bob", last_name="Berater"),
        "repair": TicketTypeFactory(name="Repair"),
        "maintenance": TicketTypeFactory(name="Maintenance"),
        "handled": TicketStatusFactory(name="Being handled"),
    }
    customer = ExternalUserFactory(
        email="erika@example.com",
        first_name="Erika",
        last_name="Kunde",
        address=headquarters,
        contact_person=w["erika"],
        roles=["Portal user"],
        read=[branch],
        write=[headquarters],
        teams=[w["service"]],
        recipients=[w["anna"]],
        types=[w["repair"]],
    )
    AccessChange.objects.all().delete()  # only what the tests do below
    w["customer"] = User.objects.get(pk=customer.pk)
    return w


HQ = "10001 Acme Maschinenbau GmbH"
BRANCH = "10023 Acme Nord"
OTHER = "10030 Other AG"

# What the administrator changes on the form -> the rows the trail must hold.
ADMIN_CHANGES = {
    "address (and so the contact person)": (
        lambda w: {"address": w["other"].pk, "contact_person": w["other_contact"].pk},
        {("address", HQ, OTHER), ("contact_person", "Erika Kunde", "Olga Other")},
    ),
    "read permission": (
        lambda w: {"read_addresses": [w["branch"].pk, w["other"].pk]},
        {("read_addresses", BRANCH, f"{BRANCH}, {OTHER}")},
    ),
    "write permission": (
        lambda w: {"write_addresses": []},
        {("write_addresses", HQ, "")},
    ),
    "contact person": (
        lambda w: {"contact_person": w["max"].pk},
        {("contact_person", "Erika Kunde", "Max Kunde")},
    ),
    "responsible teams": (
        lambda w: {"responsible_teams": [w["field"].pk]},
        {("responsible_teams", "Service", "Field service")},
    ),
    "responsible users": (
        lambda w: {"responsible_users": [w["anna"].pk, w["bob"].pk]},
        {
            (
                "responsible_users",
                "Anna Agent <anna@example.com>",
                "Anna Agent <anna@example.com>, Bob Berater <bob@example.com>",
            )
        },
    ),
    "ticket types": (
        lambda w: {"ticket_types": [w["maintenance"].pk, w["repair"].pk]},
        {("ticket_types", "Repair", "Maintenance, Repair")},
    ),
    "status restriction and statuses": (
        lambda w: {"restrict_status": "on", "allowed_statuses": [w["handled"].pk]},
        {("restrict_status", "no", "yes"), ("allowed_statuses", "", "Being handled")},
    ),
    "roles": (
        lambda w: {"groups": [role("Portal editor").pk]},
        {("groups", "Portal user", "Portal editor")},
    ),
    "active": (
        lambda w: {"is_active": ""},
        {("is_active", "yes", "no")},
    ),
}


@pytest.mark.parametrize("change", list(ADMIN_CHANGES))
def test_admin_change_is_recorded_with_before_after_and_who(
    staff_client, admin_user, world, change
):
    overrides, expected = ADMIN_CHANGES[change]
    customer = world["customer"]
    response = staff_client.post(change_url(customer), post_data(customer, **overrides(world)))
    assert response.status_code == 302, response.context["adminform"].form.errors

    assert recorded(customer) == expected
    for row in AccessChange.objects.filter(user=customer):
        assert row.changed_by == admin_user
        assert row.changed_by_email == "root@example.com"
        assert row.via == AccessChange.Via.ADMIN
        assert row.user_email == "erika@example.com"


def test_turning_an_external_user_internal_is_recorded(staff_client, world):
    customer = world["customer"]
    data = post_data(customer, is_external="", address="", contact_person="")
    for name in ("read_addresses", "write_addresses", "responsible_teams"):
        data.pop(name)
    data.pop("responsible_users")
    data.pop("ticket_types")
    response = staff_client.post(change_url(customer), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    rows = recorded(customer)
    assert ("is_external", "yes", "no") in rows
    assert ("address", HQ, "") in rows
    assert ("write_addresses", HQ, "") in rows


def test_a_save_without_access_changes_records_nothing(staff_client, world):
    customer = world["customer"]
    response = staff_client.post(
        change_url(customer), post_data(customer, first_name="Erika Maria")
    )
    assert response.status_code == 302
    assert recorded(customer) == set()


def test_adding_an_external_user_records_what_it_was_given(staff_client, admin_user, world):
    data = {
        "email": "new@example.com",
        "language": "en",
        "send_password_link": "on",
        "is_external": "on",
        "address": world["hq"].pk,
        "write_addresses": [world["hq"].pk],
        "ticket_types": [world["repair"].pk],
        "groups": [role("Portal user").pk],
        "is_active": "on",
        "_save": "Save",
    }
    response = staff_client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert recorded(user) == {
        ("is_external", "no", "yes"),
        ("address", "", HQ),
        ("write_addresses", "", HQ),
        ("ticket_types", "", "Repair"),
        ("groups", "", "Portal user"),
    }
    assert {row.changed_by for row in AccessChange.objects.filter(user=user)} == {admin_user}


def test_internal_users_are_not_audited(staff_client, world):
    agent = world["anna"]
    agent.groups.add(role("Support agent"))
    response = staff_client.post(
        change_url(agent),
        {
            "email": agent.email,
            "language": "en",
            "groups": [role("Support agent").pk],
            "is_active": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    assert not AccessChange.objects.exists()


# ---------------------------------------------------------------------------------------------
# Changes made in code (imports, scripts, the shell): model signals.


def test_relation_changes_in_code_are_recorded(world):
    customer, other = world["customer"], world["other"]

    customer.read_addresses.add(other)
    customer.ticket_types.clear()
    other.writers.add(customer)  # the reverse side counts too
    role("Portal editor").user_set.add(customer)
    world["service"].external_users.clear()

    rows = AccessChange.objects.filter(user=customer).order_by("pk")
    assert [(r.field, r.before, r.after) for r in rows] == [
        ("read_addresses", BRANCH, f"{BRANCH}, {OTHER}"),
        ("ticket_types", "Repair", ""),
        ("write_addresses", HQ, f"{HQ}, {OTHER}"),
        ("groups", "Portal user", "Portal editor, Portal user"),
        ("responsible_teams", "Service", ""),
    ]
    assert {(r.changed_by, r.via) for r in rows} == {(None, AccessChange.Via.CODE)}


def test_the_actor_of_a_change_in_code_can_be_named(world, admin_user):
    customer = world["customer"]
    with acting_as(admin_user):
        customer.write_addresses.remove(world["hq"])
        customer.is_active = False
        customer.save()
    customer.restrict_status = True
    customer.save()
    rows = {(r.field, r.before, r.after, r.changed_by) for r in AccessChange.objects.all()}
    assert rows == {
        ("write_addresses", HQ, "", admin_user),
        ("is_active", "yes", "no", admin_user),
        ("restrict_status", "no", "yes", None),
    }


def test_saves_of_other_fields_cost_no_audit_query(world, django_assert_num_queries):
    customer = world["customer"]
    customer.language = "de"
    with django_assert_num_queries(1):
        customer.save(update_fields=["language"])
    assert not AccessChange.objects.exists()


def test_relations_of_internal_users_are_not_audited(world):
    world["anna"].groups.add(role("Support agent"))
    Group.objects.get(name="Portal user").user_set.add(world["bob"])
    assert not AccessChange.objects.exists()


# ---------------------------------------------------------------------------------------------
# Visible in admin, read-only.


def test_the_trail_is_shown_on_the_user_and_in_its_own_list(staff_client, world):
    customer = world["customer"]
    staff_client.post(change_url(customer), post_data(customer, write_addresses=[]))
    other = ExternalUserFactory()
    other.read_addresses.add(world["branch"])

    page = staff_client.get(change_url(customer)).content.decode()
    assert "Recent access changes" in page and "Write permission" in page

    response = staff_client.get(CHANGELIST_URL, {"user__id__exact": customer.pk})
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [(r.field, r.before, r.after) for r in rows] == [("write_addresses", HQ, "")]


def test_whoever_may_view_users_may_view_the_trail_but_nobody_may_change_it(client, world):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    world["customer"].read_addresses.add(world["other"])
    row = AccessChange.objects.get()

    assert client.get(CHANGELIST_URL).status_code == 200
    assert client.get(reverse("admin:accounts_accesschange_add")).status_code == 403
    delete = reverse("admin:accounts_accesschange_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AccessChange.objects.filter(pk=row.pk).exists()


def test_staff_without_view_permission_on_users_see_no_trail(client, world):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(CHANGELIST_URL).status_code == 403


def test_the_trail_outlives_a_deleted_account(world):
    customer = world["customer"]
    customer.read_addresses.add(world["other"])
    customer.delete()
    row = AccessChange.objects.get()
    assert row.user is None and row.user_email == "erika@example.com"

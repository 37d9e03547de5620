"""The roles the migrations ship carry exactly the basic rights of DESIGN.md."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader

# DESIGN.md, "Basic rights": right -> (read, write).
READ_RIGHTS = {
    "tickets.view_ticket",
    "addresses.view_address",
    "addresses.view_machine",
    "addresses.view_contactperson",
}
WRITE_RIGHTS = {
    "tickets.add_ticket",
    "tickets.change_ticket",
    "addresses.change_address",
    "addresses.change_machine",
    "addresses.change_contactperson",
    "addresses.add_contactperson",
}
TICKET_RIGHTS = {"tickets.view_ticket", "tickets.add_ticket", "tickets.change_ticket"}

PORTAL_USER = READ_RIGHTS | {"tickets.add_ticket", "tickets.change_ticket"}
PORTAL_EDITOR = PORTAL_USER | WRITE_RIGHTS

MIGRATION = ("tickets", "0003_basic_right_roles")


def permissions_of(name):
    group = Group.objects.get(name=name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


@pytest.mark.django_db
def test_portal_user_holds_all_read_rights_plus_filing_and_replying():
    assert permissions_of("Portal user") == PORTAL_USER


@pytest.mark.django_db
def test_portal_editor_holds_portal_user_plus_all_write_rights():
    assert permissions_of("Portal editor") == PORTAL_EDITOR
    assert permissions_of("Portal user") < permissions_of("Portal editor")


@pytest.mark.django_db
def test_support_agent_holds_all_ticket_rights_and_only_read_rights_on_the_rest():
    agent = permissions_of("Support agent")

    assert agent & (READ_RIGHTS | WRITE_RIGHTS) == TICKET_RIGHTS | READ_RIGHTS
    outside_tickets = {perm for perm in agent if not perm.startswith("tickets.")}
    assert outside_tickets, "read rights on addresses, machines and contact persons"
    assert all(perm.split(".")[1].startswith("view_") for perm in outside_tickets)
    # No deleting and nothing about users, roles or sessions.
    assert not any(".delete_" in perm for perm in agent)
    assert not {perm for perm in agent if perm.split(".")[0] in {"auth", "sessions", "admin"}}
    assert not any(perm.startswith("accounts.") and "user" in perm for perm in agent)
    # Only the Support agent role enters the desk.
    assert "tickets.use_desk" in agent
    assert "tickets.use_desk" not in permissions_of("Portal user")
    assert "tickets.use_desk" not in permissions_of("Portal editor")


def _roles_migration():
    return importlib.import_module("tickets.migrations.0003_basic_right_roles")


def _state_apps():
    """The app registry as it is right after the roles migration (not the global one)."""
    return MigrationLoader(connection).project_state(MIGRATION).apps


def _all_roles():
    return {name: permissions_of(name) for name in _roles_migration().ROLES}


@pytest.mark.django_db
def test_the_roles_migration_reverses_and_reapplies_to_the_same_roles():
    migration, apps = _roles_migration(), _state_apps()
    shipped = _all_roles()

    migration.delete_roles(apps, None)
    assert not Group.objects.filter(name__in=migration.ROLES).exists()

    migration.create_roles(apps, None)
    # The desk permission is granted by a later migration (it needs the model option first).
    desk = importlib.import_module("tickets.migrations.0005_desk_permission")
    desk.grant_desk_to_support_agents(django_apps, None)
    assert _all_roles() == shipped

    migration.create_roles(apps, None)  # applying twice changes nothing
    assert _all_roles() == shipped
    assert Group.objects.filter(name__in=migration.ROLES).count() == 3

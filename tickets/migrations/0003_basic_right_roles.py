"""The shipped roles (auth groups) carrying the basic rights of DESIGN.md."""

from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import migrations

PORTAL_USER = [
    "addresses.view_address",
    "addresses.view_machine",
    "addresses.view_contactperson",
    "tickets.view_ticket",
    "tickets.add_ticket",
    "tickets.change_ticket",
]
PORTAL_EDITOR = PORTAL_USER + [
    "addresses.change_address",
    "addresses.change_machine",
    "addresses.change_contactperson",
    "addresses.add_contactperson",
]
SUPPORT_AGENT = [
    "tickets.view_ticket",
    "tickets.add_ticket",
    "tickets.change_ticket",
    "tickets.view_message",
    "tickets.add_message",
    "tickets.change_message",
    "tickets.view_attachment",
    "tickets.add_attachment",
    "tickets.view_ticketevent",
    "tickets.view_tickettype",
    "tickets.view_ticketstatus",
    "addresses.view_address",
    "addresses.view_machine",
    "addresses.view_contactperson",
    "accounts.view_team",
]
ROLES = {
    "Portal user": PORTAL_USER,
    "Portal editor": PORTAL_EDITOR,
    "Support agent": SUPPORT_AGENT,
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_contenttypes(app_config, apps=apps, verbosity=0)
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = []
        for code in codes:
            app_label, codename = code.split(".")
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.add(*perms)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_ticket_number_sequence"),
        ("accounts", "0002_user_access_relations"),
        ("addresses", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]

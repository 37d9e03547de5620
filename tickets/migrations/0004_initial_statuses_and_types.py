"""A fresh installation starts with working statuses (exactly one default) and one type.

Administrators rename, reorder, add or deactivate them in admin.
"""

from django.db import migrations

STATUSES = [
    # name, order, is_default, is_closed
    ("New", 10, True, False),
    ("In progress", 20, False, False),
    ("Waiting for customer", 30, False, False),
    ("Solved", 40, False, True),
    ("Closed", 50, False, True),
]


def create(apps, schema_editor):
    TicketStatus = apps.get_model("tickets", "TicketStatus")
    TicketType = apps.get_model("tickets", "TicketType")
    if not TicketStatus.objects.exists():
        for name, order, is_default, is_closed in STATUSES:
            TicketStatus.objects.create(
                name=name, order=order, is_default=is_default, is_closed=is_closed
            )
    if not TicketType.objects.exists():
        TicketType.objects.create(name="Question", order=10)


def remove(apps, schema_editor):
    apps.get_model("tickets", "TicketStatus").objects.filter(
        name__in=[row[0] for row in STATUSES], tickets__isnull=True
    ).delete()
    apps.get_model("tickets", "TicketType").objects.filter(
        name="Question", tickets__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_basic_right_roles")]

    operations = [migrations.RunPython(create, remove)]

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """/desk/: where support staff triage and answer tickets."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "desk"
    verbose_name = _("Support desk")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        from django.db.backends.signals import connection_created

        from portal.db import read_timestamps_natively

        from . import signals

        signals.connect()
        connection_created.connect(read_timestamps_natively, dispatch_uid="portal_timestamps")

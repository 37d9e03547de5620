"""Keep `Ticket.awaiting_customer` true when a message author becomes (or stops being) an
external user: the flag counts an author's side as it is when the flag is computed, so the
tickets this user wrote in are recomputed after such a change (a rare admin action)."""

from django.conf import settings
from django.db.models.signals import post_save, pre_save

_BEFORE = "_tickets_was_external"


def _before_user_save(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "is_external" not in update_fields:
        return  # e.g. the last_login update of every sign-in
    was = sender.objects.filter(pk=instance.pk).values_list("is_external", flat=True).first()
    instance.__dict__[_BEFORE] = was


def _after_user_save(sender, instance, created, raw=False, **kwargs):
    was = instance.__dict__.pop(_BEFORE, None)
    if raw or created or was is None or was == instance.is_external:
        return
    from .models import Ticket

    Ticket.objects.filter(messages__author=instance).distinct().refresh_awaiting_customer()


def connect():
    user_model = settings.AUTH_USER_MODEL
    pre_save.connect(_before_user_save, sender=user_model, dispatch_uid="tickets_awaiting_pre")
    post_save.connect(_after_user_save, sender=user_model, dispatch_uid="tickets_awaiting_post")

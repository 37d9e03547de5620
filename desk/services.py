"""Writes of the desk's own data: saved queue filters. Ticket writes are `tickets.services`."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from access import policy

from .models import SavedFilter

MAX_SAVED_FILTERS = 50


def saved_filter_save(*, actor, name, query):
    """Save `query` (already normalised) under `name` for `actor`; the same name replaces the
    earlier filter. Returns (filter, created)."""
    decision = policy.can_use_desk(actor)
    if not decision:
        raise PermissionDenied(decision.reason)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    with transaction.atomic():
        mine = SavedFilter.objects.visible_to(actor)
        existing = mine.select_for_update().filter(name=name).first()
        if existing is not None:
            existing.query = query
            existing.save(update_fields=["query"])
            return existing, False
        if mine.count() >= MAX_SAVED_FILTERS:
            raise ValidationError(
                {
                    "name": _("You can keep at most %(limit)d saved filters; delete one first.")
                    % {"limit": MAX_SAVED_FILTERS}
                }
            )
        return SavedFilter.objects.create(user=actor, name=name, query=query), True


def saved_filter_delete(*, actor, saved_filter):
    """Delete one of `actor`'s saved filters (callers fetch it through `visible_to(actor)`)."""
    with transaction.atomic():
        deleted, _rows = SavedFilter.objects.visible_to(actor).filter(pk=saved_filter.pk).delete()
    return bool(deleted)

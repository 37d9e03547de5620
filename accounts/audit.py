"""The audit trail of external users' access: who changed which access field, from what, to what.

Two ways in, one way of recording (`record_access_changes`):

* **The admin** knows the administrator who saves. `accounts.transparency.TransparencyAdminMixin`
  takes a snapshot of the saved user before the save and after its many-to-many fields, and
  records one row per changed field, with the whole value before and after.
* **Anywhere else in code** (imports, scripts, the shell, services) the model signals below
  record the change. The actor is whoever `acting_as(user)` names around the change, or nobody
  (the system). A many-to-many `.set()` is a removal and an addition to Django, so it is
  recorded as two rows there.

The admin marks the user object it saves (`suppress_signals`), so its changes are not recorded
twice; so does the admin's "effective access" preview of unsaved changes, which saves inside a
savepoint that is always rolled back.

Only external users are audited (a user that is external before or after the change). Values are
stored as the administrator reads them: addresses as "number name", people as "name <e-mail>",
everything else by name, flags as "yes"/"no"; lists sorted and joined with ", ".
"""

import contextvars
from contextlib import contextmanager

from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from .models import AccessChange, User

# The audited fields (`AccessChange.FIELDS`): the manual's external-access fields, the roles
# and the two flags.
FIELDS = AccessChange.FIELDS
SCALAR_FIELDS = ("is_external", "is_active", "address", "contact_person", "restrict_status")
M2M_FIELDS = tuple(name for name in FIELDS if name not in SCALAR_FIELDS)

_SUPPRESS_ATTR = "_access_audit_suppressed"
_PENDING_ATTR = "_access_audit_pending"
_actor = contextvars.ContextVar("access_audit_actor", default=None)


@contextmanager
def acting_as(user):
    """Name the actor of access changes made in code inside the block (None: the system)."""
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)


def suppress_signals(user):
    """The caller records the changes to `user` (this object) itself."""
    setattr(user, _SUPPRESS_ATTR, True)


def _suppressed(user):
    return getattr(user, _SUPPRESS_ATTR, False)


# ---------------------------------------------------------------------------------------------
# Values as the administrator reads them.


def _flag(value):
    return "yes" if value else "no"


def _label(obj):
    if obj is None:
        return ""
    if isinstance(obj, User):
        name = obj.get_full_name()
        return f"{name} <{obj.email}>" if name else obj.email
    return str(obj)


def _labels(objects):
    return ", ".join(sorted(_label(obj) for obj in objects))


def scalar_values(user):
    return {
        "is_external": _flag(user.is_external),
        "is_active": _flag(user.is_active),
        "restrict_status": _flag(user.restrict_status),
        "address": _label(user.address) if user.address_id else "",
        "contact_person": _label(user.contact_person) if user.contact_person_id else "",
    }


def _m2m_values(user, name):
    if user.pk is None:
        return ""
    return _labels(getattr(user, name).all())


def snapshot(user):
    """Every audited field of a saved `user`, as stored in the trail (one query per relation)."""
    values = scalar_values(user)
    for name in M2M_FIELDS:
        values[name] = _m2m_values(user, name)
    return values


def blank_snapshot():
    """The values of a user that does not exist yet: the model's defaults, empty relations."""
    return {
        **scalar_values(User()),
        **dict.fromkeys(M2M_FIELDS, ""),
    }


def saved_snapshot(pk):
    """`snapshot` of the user as the database holds it now."""
    user = User.objects.select_related("address", "contact_person").get(pk=pk)
    return snapshot(user)


def record_access_changes(*, user, before, after, changed_by=None, via=AccessChange.Via.CODE):
    """Record every audited field whose value differs between the two snapshots.

    Nothing is recorded for a user that is internal before and after. Returns the new rows.
    """
    if before.get("is_external") != "yes" and after.get("is_external") != "yes":
        return []
    rows = [
        AccessChange(
            user=user,
            user_email=user.email,
            changed_by=changed_by,
            changed_by_email=getattr(changed_by, "email", "") or "",
            via=via,
            field=name,
            before=before[name],
            after=after[name],
        )
        for name in FIELDS
        if name in before and name in after and before[name] != after[name]
    ]
    return AccessChange.objects.bulk_create(rows) if rows else []


# ---------------------------------------------------------------------------------------------
# Changes made outside the admin: model signals.


@receiver(pre_save, sender=User, dispatch_uid="access_audit_pre_save")
def _before_user_save(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or _suppressed(instance) or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(SCALAR_FIELDS):
        return
    saved = User.objects.select_related("address", "contact_person").filter(pk=instance.pk).first()
    instance.__dict__[_PENDING_ATTR + "_row"] = scalar_values(saved) if saved else None


@receiver(post_save, sender=User, dispatch_uid="access_audit_post_save")
def _after_user_save(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw or _suppressed(instance):
        return
    if created:
        before = scalar_values(User())
    else:
        before = instance.__dict__.pop(_PENDING_ATTR + "_row", None)
        if before is None:
            return
    record_access_changes(
        user=instance, before=before, after=scalar_values(instance), changed_by=_actor.get()
    )


def _m2m_field_of(through):
    for name in M2M_FIELDS:
        if getattr(User, name).through is through:
            return name
    return None


def _affected_users(instance, field_name, reverse, action, pk_set):
    """The external users whose `field_name` this m2m change touches."""
    if not reverse:
        if not isinstance(instance, User) or _suppressed(instance) or instance.pk is None:
            return []
        return [instance] if instance.is_external else []
    field = User._meta.get_field(field_name)
    through = field.remote_field.through
    if action.endswith("clear"):
        target_column = field.m2m_reverse_field_name()
        ids = through.objects.filter(**{target_column: instance.pk}).values_list(
            field.m2m_field_name(), flat=True
        )
    else:
        ids = pk_set or ()
    return list(User.objects.filter(pk__in=list(ids), is_external=True))


@receiver(m2m_changed, dispatch_uid="access_audit_m2m_changed")
def _user_relation_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    field_name = _m2m_field_of(sender)
    if field_name is None or action not in {
        "pre_add",
        "post_add",
        "pre_remove",
        "post_remove",
        "pre_clear",
        "post_clear",
    }:
        return
    pending = instance.__dict__.setdefault(_PENDING_ATTR, {})
    key = (field_name, action.split("_", 1)[1])
    if action.startswith("pre_"):
        users = _affected_users(instance, field_name, reverse, action, pk_set)
        if users:
            pending[key] = [(user, _m2m_values(user, field_name)) for user in users]
        return
    for user, before in pending.pop(key, ()):
        after = _m2m_values(user, field_name)
        if before != after:
            record_access_changes(
                user=user,
                before={"is_external": "yes", field_name: before},
                after={"is_external": "yes", field_name: after},
                changed_by=_actor.get(),
            )

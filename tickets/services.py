"""The write paths of tickets: file, reply, set status, add an internal note.

Every function here is keyword-only, runs in one transaction and asks `access.policy` again
before it writes, whatever the view or form already checked: a refusal raises `AccessDenied`
(a `PermissionDenied`, so a view answers 403) and input that cannot be saved raises
`ValidationError` keyed by argument or model field (`subject`, `body`, `files`, `machine` …),
ready for `form.add_error`. Either way
nothing is written: the policy is asked and the input validated before the first row is saved,
and the transaction rolls back whatever a later failure leaves.

Callers must have fetched the ticket through its scope (`Ticket.objects.visible_to(user)`) so
an invisible ticket is a 404 before a service is called; the services lock and re-read the row.
"""

import mimetypes
import os

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from access import policy

from .models import Attachment, Message, Priority, Ticket, TicketEvent, TicketStatus

DEFAULT_ATTACHMENT_MAX_SIZE = 10 * 1024 * 1024
DEFAULT_ATTACHMENT_MAX_COUNT = 5


class AccessDenied(PermissionDenied):
    """The policy refused the action; `decision` says which rule refused it."""

    def __init__(self, decision):
        super().__init__(decision.reason)
        self.decision = decision


def _require(decision):
    if not decision:
        raise AccessDenied(decision)
    return decision


# ---------------------------------------------------------------------------------------------
# Input checks. They only read; they run before anything is written.


def _required_text(value, field, errors, *, max_length=None):
    """The stripped text, or an error in `errors[field]` when it is empty or too long."""
    text = (value or "").strip()
    if not text:
        errors[field] = ValidationError(_("This field is required."), code="required")
    elif max_length is not None and len(text) > max_length:
        errors[field] = ValidationError(
            _("Enter at most %(limit)d characters (it has %(length)d)."),
            code="max_length",
            params={"limit": max_length, "length": len(text)},
        )
    return text


def _original_name(upload):
    """The file's own name without any folder part, as browsers on any system may send one."""
    name = (getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if name in {"", ".", ".."}:
        name = _("attachment")
    if len(name) > 255:
        stem, extension = os.path.splitext(name)
        extension = extension[:20]
        name = stem[: 255 - len(extension)] + extension
    return name


def _checked_files(files, errors):
    """The uploads as a list; count and size errors go to `errors["files"]`."""
    uploads = [upload for upload in (files or ()) if upload is not None]
    max_count = getattr(settings, "ATTACHMENT_MAX_COUNT", DEFAULT_ATTACHMENT_MAX_COUNT)
    max_size = getattr(settings, "ATTACHMENT_MAX_SIZE", DEFAULT_ATTACHMENT_MAX_SIZE)
    problems = []
    if len(uploads) > max_count:
        problems.append(
            ValidationError(
                ngettext(
                    "Attach at most %(limit)d file to a message (you chose %(count)d).",
                    "Attach at most %(limit)d files to a message (you chose %(count)d).",
                    max_count,
                ),
                code="too_many_files",
                params={"limit": max_count, "count": len(uploads)},
            )
        )
    for upload in uploads:
        if upload.size > max_size:
            problems.append(
                ValidationError(
                    _("The file “%(name)s” is %(size)s; a file may be at most %(limit)s."),
                    code="file_too_large",
                    params={
                        "name": _original_name(upload),
                        "size": filesizeformat(upload.size),
                        "limit": filesizeformat(max_size),
                    },
                )
            )
    if problems:
        errors["files"] = problems
    return uploads


def _raise_if(errors):
    if errors:
        raise ValidationError(errors)


# ---------------------------------------------------------------------------------------------
# Writes shared by the services. They run inside the caller's transaction.


def _lock_ticket(ticket):
    """The ticket's row, fresh and locked until the transaction ends (PostgreSQL; SQLite
    serialises writers anyway), so concurrent replies and status changes do not overwrite
    each other's status, closed_at or updated_at."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _save_attachments(message, uploads):
    """Store the files of `message`; names on disk come from `attachment_upload_to`.

    Files are not transactional: every service writes its message (and so its files) last,
    and files already stored are removed again when a later one fails.
    """
    saved = []
    try:
        for upload in uploads:
            content_type = (getattr(upload, "content_type", "") or "").strip()
            name = _original_name(upload)
            if not content_type:
                content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            attachment = Attachment(
                message=message,
                original_name=name,
                size=upload.size,
                content_type=content_type[:100],
            )
            attachment.file.save(name, upload, save=False)
            saved.append(attachment)
            attachment.save()
    except BaseException:
        for attachment in saved:
            attachment.file.delete(save=False)
        raise
    return saved


def _add_message(*, ticket, author, kind, body, uploads, now):
    message = Message.objects.create(
        ticket=ticket, author=author, kind=kind, body=body, created_at=now
    )
    _save_attachments(message, uploads)
    return message


def _event(ticket, actor, kind, *, now, old="", new=""):
    return TicketEvent.objects.create(
        ticket=ticket, actor=actor, kind=kind, old_value=old, new_value=new, created_at=now
    )


def _apply_status(ticket, status, *, actor, now):
    """Move a locked ticket to `status`, recording the history; the caller saves the ticket."""
    old = ticket.status
    ticket.status = status
    _event(ticket, actor, TicketEvent.Kind.STATUS_CHANGED, now=now, old=old.name, new=status.name)
    if status.is_closed and ticket.closed_at is None:
        ticket.closed_at = now
        _event(ticket, actor, TicketEvent.Kind.CLOSED, now=now)
    elif not status.is_closed and ticket.closed_at is not None:
        ticket.closed_at = None
        _event(ticket, actor, TicketEvent.Kind.REOPENED, now=now)


# ---------------------------------------------------------------------------------------------
# The services.


def ticket_create(
    *,
    actor,
    address,
    ticket_type,
    subject,
    description,
    team=None,
    recipient=None,
    machine=None,
    contact_person=None,
    priority=Priority.NORMAL,
    files=(),
):
    """File a ticket at `address` for `team` and/or `recipient`; returns the new ticket.

    The ticket starts in the default status with `description` as its first message. Without
    `contact_person` the actor's own linked contact person is used when it belongs to
    `address`; a given one must belong to `address` and be visible to the actor.
    """
    with transaction.atomic():
        _require(
            policy.can_file_ticket(
                actor,
                address=address,
                ticket_type=ticket_type,
                team=team,
                recipient=recipient,
                machine=machine,
            )
        )
        if contact_person is not None:
            _require(policy.can_see_contact(actor, contact_person))

        errors = {}
        subject = _required_text(
            subject, "subject", errors, max_length=Ticket._meta.get_field("subject").max_length
        )
        description = _required_text(description, "description", errors)
        uploads = _checked_files(files, errors)
        if priority not in Priority.values:
            errors["priority"] = ValidationError(
                _("“%(value)s” is not a priority."), code="invalid", params={"value": priority}
            )
        if contact_person is not None and not contact_person.is_active:
            errors["contact_person"] = ValidationError(
                _("The contact person is no longer active."), code="inactive"
            )
        _raise_if(errors)

        if contact_person is None:
            own = actor.contact_person if actor.contact_person_id else None
            if own is not None and own.is_active and own.address_id == address.pk:
                contact_person = own

        now = timezone.now()
        ticket = Ticket(
            subject=subject,
            type=ticket_type,
            status=TicketStatus.objects.default(),
            priority=priority,
            address=address,
            machine=machine,
            contact_person=contact_person,
            created_by=actor,
            responsible_team=team,
            responsible_user=recipient,
            created_at=now,
        )
        # Machine and contact person at the address, a recipient at all, field limits.
        ticket.full_clean(exclude=["number"])
        ticket.save()
        _event(ticket, actor, TicketEvent.Kind.CREATED, now=now, new=ticket.status.name)
        _add_message(
            ticket=ticket,
            author=actor,
            kind=Message.Kind.DESCRIPTION,
            body=description,
            uploads=uploads,
            now=now,
        )
    return ticket


def ticket_reply(*, actor, ticket, body, files=()):
    """Add a public reply; returns the message. Replying to a closed ticket reopens it in the
    default status (DESIGN.md: the reply right covers this, whatever statuses are settable)."""
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(policy.can_reply(actor, ticket))
        errors = {}
        body = _required_text(body, "body", errors)
        uploads = _checked_files(files, errors)
        _raise_if(errors)

        now = timezone.now()
        update_fields = ["updated_at"]
        if ticket.is_closed:
            _apply_status(ticket, TicketStatus.objects.default(), actor=actor, now=now)
            update_fields += ["status", "closed_at"]
        ticket.save(update_fields=update_fields)
        message = _add_message(
            ticket=ticket,
            author=actor,
            kind=Message.Kind.REPLY,
            body=body,
            uploads=uploads,
            now=now,
        )
    return message


def ticket_set_status(*, actor, ticket, status):
    """Move the ticket to `status`; returns the (re-read) ticket. Setting the current status
    again is allowed and changes nothing."""
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(policy.can_set_status(actor, ticket, status))
        if status.pk == ticket.status_id:
            return ticket
        _apply_status(ticket, status, actor=actor, now=timezone.now())
        ticket.save(update_fields=["status", "closed_at", "updated_at"])
    return ticket


def ticket_add_internal_note(*, actor, ticket, body, files=()):
    """Add a note only internal users see; returns the message.

    It does not touch `updated_at`: customers sort and see "recent activity" by it, and a note
    must not show them that something happened.
    """
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(policy.can_add_internal_note(actor, ticket))
        errors = {}
        body = _required_text(body, "body", errors)
        uploads = _checked_files(files, errors)
        _raise_if(errors)
        message = _add_message(
            ticket=ticket,
            author=actor,
            kind=Message.Kind.INTERNAL_NOTE,
            body=body,
            uploads=uploads,
            now=timezone.now(),
        )
    return message

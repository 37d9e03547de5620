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
from addresses.models import ContactPerson
from portal.db import row_by_pk

from .models import Attachment, Message, Priority, Ticket, TicketEvent, TicketStatus
from .tasks import notify_message_added, notify_status_changed, notify_ticket_created

# A new ticket's foreign keys (see ticket_create).
RELATED_FIELDS = [field.name for field in Ticket._meta.concrete_fields if field.is_relation]

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


def _add_message(*, ticket, author, kind, body, uploads, now, refresh_awaiting=True):
    message = Message(ticket=ticket, author=author, kind=kind, body=body, created_at=now)
    message.save(force_insert=True, refresh_awaiting=refresh_awaiting)
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

        if contact_person is None and actor.contact_person_id:
            # The actor's own link, read by key (no query built for it: every filing asks).
            own = row_by_pk(ContactPerson, actor.contact_person_id)
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
            # The description is the ticket's only public message: the ticket waits for the
            # customer exactly when an internal user filed it (Message.save need not ask).
            awaiting_customer=not actor.is_external,
        )
        # Machine and contact person at the address, a recipient at all, field limits. Not
        # the foreign keys' existence: each object was read just now (the policy checked it),
        # so Django's query per key would only repeat that; the database enforces them.
        ticket.full_clean(exclude=["number", *RELATED_FIELDS])
        ticket.save()
        _event(ticket, actor, TicketEvent.Kind.CREATED, now=now, new=ticket.status.name)
        _add_message(
            ticket=ticket,
            author=actor,
            kind=Message.Kind.DESCRIPTION,
            body=description,
            uploads=uploads,
            now=now,
            refresh_awaiting=False,
        )
        transaction.on_commit(
            lambda: notify_ticket_created.enqueue(ticket_id=ticket.pk), robust=True
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
        transaction.on_commit(
            lambda: notify_message_added.enqueue(message_id=message.pk), robust=True
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
        transaction.on_commit(
            lambda: notify_status_changed.enqueue(
                ticket_id=ticket.pk, status_id=status.pk, actor_id=actor.pk
            ),
            robust=True,
        )
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
        transaction.on_commit(
            lambda: notify_message_added.enqueue(message_id=message.pk), robust=True
        )
    return message


# ---------------------------------------------------------------------------------------------
# Desk services: take, forward, change type and priority, and their bulk forms.
#
# Taking, forwarding and changing the type or priority are internal matters (their events are
# not in `TicketEvent.PUBLIC_KINDS`), so, like internal notes, they leave `updated_at` alone.
# Doing what is already the case (taking one's own ticket, forwarding to the current
# recipient, the same type or priority) changes nothing and records nothing.


def recipient_label(team, user):
    """How the history names a ticket's recipient: "Support", "Ada Agent", "Support · Ada"."""
    return " · ".join(str(part) for part in (team, user) if part is not None)


def ticket_take(*, actor, ticket):
    """Make `actor` the responsible user (the responsible team stays); returns the ticket."""
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(policy.can_take(actor, ticket))
        if ticket.responsible_user_id == actor.pk:
            return ticket
        previous = ticket.responsible_user
        ticket.responsible_user = actor
        ticket.save(update_fields=["responsible_user"])
        _event(
            ticket,
            actor,
            TicketEvent.Kind.TAKEN,
            now=timezone.now(),
            old=str(previous) if previous is not None else "",
            new=str(actor),
        )
    return ticket


def ticket_forward(*, actor, ticket, team=None, recipient=None):
    """Forward to `team` (it lands unassigned in the team's queue) or to `recipient` (the
    responsible team stays); the event records who delegated (the actor) from whom to whom.
    Returns the ticket."""
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(policy.can_forward(actor, ticket, team=team, recipient=recipient))
        old_team, old_user = ticket.responsible_team, ticket.responsible_user
        if team is not None:
            new_team, new_user = team, None
        else:
            new_team, new_user = old_team, recipient
        if (new_team, new_user) == (old_team, old_user):
            return ticket
        ticket.responsible_team, ticket.responsible_user = new_team, new_user
        ticket.save(update_fields=["responsible_team", "responsible_user"])
        _event(
            ticket,
            actor,
            TicketEvent.Kind.FORWARDED,
            now=timezone.now(),
            old=recipient_label(old_team, old_user),
            new=recipient_label(new_team, new_user),
        )
    return ticket


def ticket_change_type(*, actor, ticket, ticket_type):
    """Give the ticket another type; returns the ticket."""
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(policy.can_change_type(actor, ticket, ticket_type))
        if ticket.type_id == ticket_type.pk:
            return ticket
        old = ticket.type
        ticket.type = ticket_type
        ticket.save(update_fields=["type"])
        _event(
            ticket,
            actor,
            TicketEvent.Kind.TYPE_CHANGED,
            now=timezone.now(),
            old=old.name,
            new=ticket_type.name,
        )
    return ticket


def _checked_priority(priority):
    if priority not in Priority.values:
        raise ValidationError(
            {
                "priority": ValidationError(
                    _("“%(value)s” is not a priority."), code="invalid", params={"value": priority}
                )
            }
        )
    return priority


def ticket_change_priority(*, actor, ticket, priority):
    """Set the priority (a `Priority` value; the event stores the values); returns the ticket."""
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(policy.can_change_ticket_fields(actor, ticket))
        priority = _checked_priority(priority)
        if ticket.priority == priority:
            return ticket
        old = ticket.priority
        ticket.priority = priority
        ticket.save(update_fields=["priority"])
        _event(
            ticket,
            actor,
            TicketEvent.Kind.PRIORITY_CHANGED,
            now=timezone.now(),
            old=old,
            new=priority,
        )
    return ticket


class BulkRefused(AccessDenied):
    """The policy refused the action on some of the selected tickets; nothing was changed.
    `refusals` lists (ticket, decision) for every refused ticket."""

    def __init__(self, refusals):
        super().__init__(refusals[0][1])
        self.refusals = refusals


def _bulk(*, tickets, check, apply):
    """Lock every selected ticket, ask `check(ticket)` for each and, only when all are allowed,
    `apply(ticket)` to each (the single-ticket service, which checks again and records the
    event). One transaction: a refusal or a failure on any ticket changes none of them."""
    with transaction.atomic():
        # Locked in primary-key order, so two bulk actions never wait for each other in a circle.
        locked = list(
            Ticket.objects.select_for_update()
            .filter(pk__in=[ticket.pk for ticket in tickets])
            .order_by("pk")
        )
        refusals = [(ticket, decision) for ticket in locked if not (decision := check(ticket))]
        if refusals:
            raise BulkRefused(refusals)
        return [apply(ticket) for ticket in locked]


def tickets_bulk_take(*, actor, tickets):
    """Take every ticket of `tickets` (all or none); returns them."""
    return _bulk(
        tickets=tickets,
        check=lambda ticket: policy.can_take(actor, ticket),
        apply=lambda ticket: ticket_take(actor=actor, ticket=ticket),
    )


def tickets_bulk_forward(*, actor, tickets, team=None, recipient=None):
    """Forward every ticket of `tickets` to `team` or `recipient` (all or none)."""
    return _bulk(
        tickets=tickets,
        check=lambda ticket: policy.can_forward(actor, ticket, team=team, recipient=recipient),
        apply=lambda ticket: ticket_forward(
            actor=actor, ticket=ticket, team=team, recipient=recipient
        ),
    )


def tickets_bulk_set_status(*, actor, tickets, status):
    """Move every ticket of `tickets` to `status` (all or none)."""
    return _bulk(
        tickets=tickets,
        check=lambda ticket: policy.can_set_status(actor, ticket, status),
        apply=lambda ticket: ticket_set_status(actor=actor, ticket=ticket, status=status),
    )


def tickets_bulk_set_priority(*, actor, tickets, priority):
    """Set the priority of every ticket of `tickets` (all or none)."""
    priority = _checked_priority(priority)
    return _bulk(
        tickets=tickets,
        check=lambda ticket: policy.can_change_ticket_fields(actor, ticket),
        apply=lambda ticket: ticket_change_priority(actor=actor, ticket=ticket, priority=priority),
    )

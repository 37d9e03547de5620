"""Who hears about what happens on a ticket, and the e-mail each of them gets.

Pure functions: they read the ticket, its people and `access.policy`, and return recipients and
unsent messages. `tickets.tasks` fetches the rows by id once the transaction has committed, asks
this module and sends.

The rule is "the other side hears about it, the actor never does":

======================================  ====================================================
event                                   recipients
======================================  ====================================================
new ticket                              responsible staff
public reply or status change by staff  the external user who filed the ticket
public reply or status change by a      responsible staff
customer
internal note                           responsible staff, never an external user
======================================  ====================================================

*Responsible staff* is the ticket's responsible user; without one (or when that user may no
longer use the desk), the active internal members of the responsible team who may use the desk;
without any, the team's mailbox (`Team.email`). A customer is mailed only while the policy still
lets them see the ticket, so revoked access also stops the mails. Everyone is asked when the mail
is built, not when the change was made.

Every recipient gets a mail of their own: in their language, with a link to where they work on
the ticket (the portal for external users, the desk for staff), and without the other
recipients' addresses.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from access import policy

from .models import Message, Ticket

# Where each audience works on a ticket (DESIGN.md, "URL map": stable, users bookmark them).
PORTAL_TICKET_PATH = "/portal/tickets/{number}/"
DESK_TICKET_PATH = "/desk/tickets/{number}/"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class Event:
    TICKET_CREATED = "ticket_created"
    REPLY = "reply"
    STATUS_CHANGED = "status_changed"
    INTERNAL_NOTE = "internal_note"


class Reason:
    """Why a recipient gets the mail; the mail says so in its footer."""

    CREATOR = "creator"
    RESPONSIBLE = "responsible"
    TEAM_MEMBER = "team_member"
    TEAM_MAILBOX = "team_mailbox"


@dataclass(frozen=True)
class Recipient:
    key: str
    """Stable across retries ("user:<pk>" or "team:<pk>"): a retry re-sends only to these."""
    email: str
    language: str
    external: bool
    reason: str
    user: object = field(default=None, compare=False, repr=False)
    team: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Notification:
    event: str
    ticket: Ticket
    actor: object
    recipients: tuple
    message: Message | None = None
    status: object = None


# ---------------------------------------------------------------------------------------------
# Recipients


def _language(code):
    available = {language for language, _name in settings.LANGUAGES}
    return code if code in available else settings.LANGUAGE_CODE


def _user_recipient(user, reason):
    return Recipient(
        key=f"user:{user.pk}",
        email=user.email,
        language=_language(user.language),
        external=bool(user.is_external),
        reason=reason,
        user=user,
    )


def responsible_staff(ticket):
    """The staff who answer for `ticket`, before the actor is taken out (see module doc)."""
    user = ticket.responsible_user
    if user is not None and user.email and policy.can_use_desk(user):
        return [_user_recipient(user, Reason.RESPONSIBLE)]
    team = ticket.responsible_team
    if team is None:
        return []
    members = [
        member
        for member in team.members.filter(is_active=True, is_external=False).order_by("pk")
        if member.email and policy.can_use_desk(member)
    ]
    if members:
        return [_user_recipient(member, Reason.TEAM_MEMBER) for member in members]
    if team.email:
        return [
            Recipient(
                key=f"team:{team.pk}",
                email=team.email,
                language=settings.LANGUAGE_CODE,
                external=False,
                reason=Reason.TEAM_MAILBOX,
                team=team,
            )
        ]
    return []


def customer(ticket):
    """The external user who filed `ticket`, while they may still see it."""
    creator = ticket.created_by
    if creator is None or not creator.is_external or not creator.email:
        return []
    if not policy.can_see_ticket(creator, ticket):
        return []
    return [_user_recipient(creator, Reason.CREATOR)]


def _other_side(ticket, actor):
    """Staff acted: the customer hears about it. A customer (or nobody known) acted: staff."""
    if actor is not None and not actor.is_external:
        return customer(ticket)
    return responsible_staff(ticket)


def _without_actor(recipients, actor):
    """Never the actor, nobody twice."""
    actor_email = (actor.email or "").lower() if actor is not None else None
    seen, kept = set(), []
    for recipient in recipients:
        email = recipient.email.lower()
        if recipient.user is not None and actor is not None and recipient.user.pk == actor.pk:
            continue
        if email == actor_email or email in seen:
            continue
        seen.add(email)
        kept.append(recipient)
    return tuple(kept)


def ticket_created(ticket):
    """A new ticket: its responsible staff hear about it, with the description."""
    actor = ticket.created_by
    description = ticket.messages.filter(kind=Message.Kind.DESCRIPTION).first()
    return Notification(
        event=Event.TICKET_CREATED,
        ticket=ticket,
        actor=actor,
        recipients=_without_actor(responsible_staff(ticket), actor),
        message=description,
    )


def message_added(message):
    """A public reply goes to the other side; an internal note only ever to staff."""
    ticket, actor = message.ticket, message.author
    if message.kind == Message.Kind.INTERNAL_NOTE:
        recipients = [r for r in responsible_staff(ticket) if not r.external]
        event = Event.INTERNAL_NOTE
    else:
        recipients = _other_side(ticket, actor)
        event = Event.REPLY
    return Notification(
        event=event,
        ticket=ticket,
        actor=actor,
        recipients=_without_actor(recipients, actor),
        message=message,
    )


def status_changed(ticket, status, actor):
    """`actor` moved `ticket` to `status`: the other side hears about it."""
    return Notification(
        event=Event.STATUS_CHANGED,
        ticket=ticket,
        actor=actor,
        recipients=_without_actor(_other_side(ticket, actor), actor),
        status=status,
    )


# ---------------------------------------------------------------------------------------------
# Messages


def ticket_url(ticket, *, external):
    """The absolute link to `ticket` where the recipient works on it."""
    base = getattr(settings, "PORTAL_BASE_URL", "") or DEFAULT_BASE_URL
    path = PORTAL_TICKET_PATH if external else DESK_TICKET_PATH
    return base.rstrip("/") + path.format(number=ticket.number)


def _one_line(text):
    """Mail headers must not contain line breaks (Django refuses them)."""
    return " ".join(str(text).split())


def _subject(notification):
    ticket = notification.ticket
    values = {"number": ticket.number, "subject": ticket.subject}
    if notification.event == Event.TICKET_CREATED:
        subject = _("[#%(number)s] New ticket: %(subject)s") % values
    elif notification.event == Event.REPLY:
        subject = _("[#%(number)s] New reply: %(subject)s") % values
    elif notification.event == Event.INTERNAL_NOTE:
        subject = _("[#%(number)s] Internal note: %(subject)s") % values
    else:
        values["status"] = notification.status.name
        subject = _("[#%(number)s] Status %(status)s: %(subject)s") % values
    return _one_line(subject)


def _actor_name(actor):
    if actor is None:
        return _("Someone")
    return actor.get_full_name() or actor.email


def build_email(notification, recipient, *, connection=None):
    """The mail `recipient` gets about `notification`: a text part and an HTML alternative,
    in the recipient's language. User text (subject, bodies) is escaped in the HTML part."""
    with translation.override(recipient.language):
        ticket = notification.ticket
        context = {
            "event": notification.event,
            "ticket": ticket,
            "number": str(ticket.number),
            "message": notification.message,
            "status": notification.status,
            "actor_name": _actor_name(notification.actor),
            "recipient": recipient,
            "for_customer": recipient.external,
            "team": recipient.team or ticket.responsible_team,
            "url": ticket_url(ticket, external=recipient.external),
            "reason": recipient.reason,
            "attachment_count": (
                notification.message.attachments.count() if notification.message else 0
            ),
        }
        template = f"emails/{notification.event}"
        email = EmailMultiAlternatives(
            subject=_subject(notification),
            body=render_to_string(f"{template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[recipient.email],
            connection=connection,
            headers={
                "Content-Language": recipient.language,
                # RFC 3834: vacation responders and ticket systems must not answer.
                "Auto-Submitted": "auto-generated",
            },
        )
        email.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return email

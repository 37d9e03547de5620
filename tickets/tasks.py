"""Background tasks that send the ticket notifications (`tickets.notifications` says who gets
what).

The services enqueue them with `transaction.on_commit(..., robust=True)`, passing ids only, so a
rolled-back change mails nobody, the mail shows what was committed, and neither a mail failure nor
a queue failure can undo the change or raise into the request. In production the database
backend of django-tasks-db stores each task and `manage.py db_worker` runs it; in development and
tests the immediate backend runs it at once, after the commit.

Retries: the worker does not retry a failed task by itself. When a mail cannot be handed to the
mail server (SMTP errors, refused connections and timeouts are all `OSError`), the task enqueues
itself again for the recipients that failed only — later, by `RETRY_DELAYS`, when the backend can
defer tasks, at once otherwise — and then raises, so the worker records this attempt as failed
with its traceback (django-tasks-db shows it in admin). After `MAX_ATTEMPTS` it gives up and logs
an error. Other errors (a bug, a broken template) are not retried: they would fail again.
"""

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from accounts.models import User

from . import notifications
from .models import Message, Ticket, TicketStatus

logger = logging.getLogger(__name__)

# Seconds to wait before the 2nd, 3rd … attempt: about 3½ hours of mail-server trouble in all.
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 3 * 60 * 60)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

_TICKET_RELATED = (
    "created_by",
    "responsible_user",
    "responsible_team",
    "address",
    "type",
    "machine",
)


class NotificationNotSent(Exception):
    """Some mails of a notification could not be sent on this attempt."""


@task()
def notify_ticket_created(*, ticket_id, attempt=1, only=None):
    ticket = Ticket.objects.select_related(*_TICKET_RELATED).filter(pk=ticket_id).first()
    if ticket is None:
        return _gone("ticket", ticket_id)
    return _deliver(
        notify_ticket_created,
        notifications.ticket_created(ticket),
        task_kwargs={"ticket_id": ticket_id},
        attempt=attempt,
        only=only,
    )


@task()
def notify_message_added(*, message_id, attempt=1, only=None):
    """A public reply or an internal note; the message's kind decides who hears about it."""
    related = ["author", *(f"ticket__{name}" for name in _TICKET_RELATED)]
    message = Message.objects.select_related(*related).filter(pk=message_id).first()
    if message is None:
        return _gone("message", message_id)
    return _deliver(
        notify_message_added,
        notifications.message_added(message),
        task_kwargs={"message_id": message_id},
        attempt=attempt,
        only=only,
    )


@task()
def notify_status_changed(*, ticket_id, status_id, actor_id, attempt=1, only=None):
    """`status_id` is the status that was set, whatever the ticket's status is by now."""
    ticket = Ticket.objects.select_related(*_TICKET_RELATED).filter(pk=ticket_id).first()
    status = TicketStatus.objects.filter(pk=status_id).first()
    if ticket is None or status is None:
        return _gone("ticket or status", f"{ticket_id}/{status_id}")
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    return _deliver(
        notify_status_changed,
        notifications.status_changed(ticket, status, actor),
        task_kwargs={"ticket_id": ticket_id, "status_id": status_id, "actor_id": actor_id},
        attempt=attempt,
        only=only,
    )


def _gone(what, pk):
    logger.info("Notification skipped: %s %s no longer exists", what, pk)
    return {"sent": 0, "failed": 0}


def _deliver(task_, notification, *, task_kwargs, attempt, only):
    """Send one mail per recipient (`only`: the keys a retry is for); on failure schedule a
    retry for the failed recipients and raise."""
    recipients = [r for r in notification.recipients if only is None or r.key in only]
    failed, last_error = [], None
    for recipient in recipients:
        try:
            notifications.build_email(notification, recipient).send()
        except OSError as exc:
            failed.append(recipient.key)
            last_error = exc
    result = {"sent": len(recipients) - len(failed), "failed": len(failed)}
    if not failed:
        return result

    where = f"{notification.event} #{notification.ticket.number} to {', '.join(failed)}"
    if attempt >= MAX_ATTEMPTS:
        logger.error("Notification %s given up after %d attempts", where, attempt)
        raise NotificationNotSent(
            f"{where}: not sent, attempt {attempt} of {MAX_ATTEMPTS}, giving up"
        ) from last_error

    logger.warning("Notification %s failed (attempt %d); retrying", where, attempt)
    _retry(task_, task_kwargs, attempt=attempt, only=failed)
    raise NotificationNotSent(
        f"{where}: not sent, attempt {attempt} of {MAX_ATTEMPTS}, retry scheduled"
    ) from last_error


def _retry(task_, task_kwargs, *, attempt, only):
    retry = task_
    if task_.get_backend().supports_defer:
        delay = RETRY_DELAYS[attempt - 1]
        retry = task_.using(run_after=timezone.now() + timedelta(seconds=delay))
    try:
        retry.enqueue(**task_kwargs, attempt=attempt + 1, only=only)
    except Exception:
        # The failure of this attempt is still raised and recorded by the caller.
        logger.exception("Could not enqueue the retry of %s", task_.name)

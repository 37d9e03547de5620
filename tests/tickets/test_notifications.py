"""E-mail notifications (`tickets.notifications`, `tickets.tasks`): who hears about what, what
the mail says, and that sending happens after the commit, is retried when the mail server fails
and never undoes or breaks the change it reports."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tasks import task_backends
from django_tasks.backends.base import BaseTaskBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    TeamFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets import tasks
from tickets.models import Message, Ticket, TicketStatus
from tickets.services import (
    ticket_add_internal_note,
    ticket_create,
    ticket_reply,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db

BASE = "http://portal.test"  # PORTAL_BASE_URL in the test settings


# ---------------------------------------------------------------------------------------------
# Mail backends that fail, for the retry tests


class FlakyBackend(LocmemBackend):
    """Refuses the first `failures` mails to each address in `failing` (all when empty),
    like a mail server that is briefly unreachable; delivers to `mail.outbox` otherwise."""

    failing = set()
    failures = 1
    refused = []

    def send_messages(self, messages):
        for message in messages:
            for address in message.to:
                if (not self.failing or address in self.failing) and (
                    self.refused.count(address) < self.failures
                ):
                    self.refused.append(address)
                    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failing, FlakyBackend.failures, FlakyBackend.refused = set(), 1, []
    yield FlakyBackend
    FlakyBackend.failing, FlakyBackend.failures, FlakyBackend.refused = set(), 1, []


class BrokenQueueBackend(BaseTaskBackend):
    """A task backend whose queue is down: every enqueue fails."""

    def enqueue(self, task, args, kwargs):
        raise ConnectionError("task queue unreachable")


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture
def setup():
    """A customer (Portal user, German), a support team of two agents and a ticket type."""
    address = AddressFactory()
    team = TeamFactory(name="Support", email="support@example.com")
    agent = UserFactory(roles=["Support agent"], first_name="Ada", last_name="Agent")
    colleague = UserFactory(roles=["Support agent"], first_name="Carl", last_name="Colleague")
    team.members.add(agent, colleague)
    ticket_type = TicketTypeFactory(name="Malfunction")
    customer = ExternalUserFactory(
        roles=["Portal user"],
        first_name="Erika",
        last_name="Kundin",
        language="de",
        address=address,
        write=[address],
        types=[ticket_type],
        teams=[team],
        recipients=[agent],
    )

    class Setup:
        pass

    s = Setup()
    s.address, s.team, s.agent, s.colleague = address, team, agent, colleague
    s.type, s.customer = ticket_type, customer
    return s


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a service like a request would: its on-commit hooks run when it returns."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


def file_ticket(s, commit, **kwargs):
    values = {
        "actor": s.customer,
        "address": s.address,
        "ticket_type": s.type,
        "subject": "Press stops",
        "description": "It stops after ten cycles.",
        "team": s.team,
    }
    values.update(kwargs)
    ticket = commit(ticket_create, **values)
    return ticket


@pytest.fixture
def ticket(setup, commit):
    """A ticket the customer filed for the Support team; its mails are already cleared."""
    ticket = file_ticket(setup, commit)
    mail.outbox.clear()
    return ticket


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


def html(message):
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def portal_link(ticket):
    return f"{BASE}/portal/tickets/{ticket.number}/"


def desk_link(ticket):
    return f"{BASE}/desk/tickets/{ticket.number}/"


# ---------------------------------------------------------------------------------------------
# A new ticket: the responsible user, else the team's members, else the team's mailbox


def test_new_ticket_mails_each_team_member_with_a_desk_link(setup, commit):
    ticket = file_ticket(setup, commit)

    assert recipients() == sorted([setup.agent.email, setup.colleague.email])
    for message in mail.outbox:
        assert len(message.to) == 1  # one mail each: nobody sees the other recipients
        assert f"#{ticket.number}" in message.subject
        assert "Press stops" in message.subject
        assert desk_link(ticket) in message.body
        assert f'href="{desk_link(ticket)}"' in html(message)
        assert portal_link(ticket) not in message.body
        assert "It stops after ten cycles." in message.body
        assert "It stops after ten cycles." in html(message)
        assert setup.address.name in message.body


def test_new_ticket_to_a_responsible_user_mails_only_that_user(setup, commit):
    file_ticket(setup, commit, recipient=setup.agent)

    assert recipients() == [setup.agent.email]


def test_team_members_who_cannot_open_the_desk_are_not_mailed(setup, commit):
    setup.colleague.is_active = False
    setup.colleague.save()
    without_desk_rights = UserFactory()
    outsider = ExternalUserFactory(address=setup.address)  # wrongly put into the team
    setup.team.members.add(without_desk_rights, outsider)

    file_ticket(setup, commit)

    assert recipients() == [setup.agent.email]


def test_new_ticket_for_a_team_without_members_goes_to_the_team_mailbox(setup, commit):
    setup.team.members.clear()

    ticket = file_ticket(setup, commit)

    [message] = mail.outbox
    assert message.to == ["support@example.com"]
    assert desk_link(ticket) in message.body
    assert message.extra_headers["Content-Language"] == "en"


def test_team_without_members_or_mailbox_mails_nobody(setup, commit):
    setup.team.members.clear()
    setup.team.email = ""
    setup.team.save()

    ticket = file_ticket(setup, commit)

    assert mail.outbox == []
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_staff_filing_a_ticket_is_not_mailed_about_it(setup, commit):
    file_ticket(setup, commit, actor=setup.agent)

    assert recipients() == [setup.colleague.email]


def test_staff_filing_a_ticket_for_themselves_mails_nobody(setup, commit):
    file_ticket(setup, commit, actor=setup.agent, recipient=setup.agent, team=None)

    assert mail.outbox == []


# ---------------------------------------------------------------------------------------------
# Replies and status changes: the other side hears about it


def test_staff_reply_mails_the_customer_with_a_portal_link(setup, ticket, commit):
    commit(ticket_reply, actor=setup.agent, ticket=ticket, body="We send a technician.")

    [message] = mail.outbox
    assert message.to == [setup.customer.email]
    assert f"#{ticket.number}" in message.subject
    assert "We send a technician." in message.body
    assert "We send a technician." in html(message)
    assert "Ada Agent" in message.body
    assert portal_link(ticket) in message.body
    assert f'href="{portal_link(ticket)}"' in html(message)
    assert "/desk/" not in message.body + html(message)


def test_customer_reply_mails_the_responsible_staff_not_the_customer(setup, ticket, commit):
    commit(ticket_reply, actor=setup.customer, ticket=ticket, body="Still broken.")

    assert recipients() == sorted([setup.agent.email, setup.colleague.email])
    for message in mail.outbox:
        assert "Still broken." in message.body
        assert desk_link(ticket) in message.body


def test_customer_reply_to_a_ticket_with_a_responsible_user_mails_that_user(setup, commit):
    ticket = file_ticket(setup, commit, recipient=setup.agent, team=None)
    mail.outbox.clear()

    commit(ticket_reply, actor=setup.customer, ticket=ticket, body="Any news?")

    assert recipients() == [setup.agent.email]


def test_staff_status_change_mails_the_customer(setup, ticket, commit):
    solved = TicketStatus.objects.get(name="Solved")

    commit(ticket_set_status, actor=setup.agent, ticket=ticket, status=solved)

    [message] = mail.outbox
    assert message.to == [setup.customer.email]
    assert f"#{ticket.number}" in message.subject
    assert "Solved" in message.subject
    assert "Solved" in message.body
    assert portal_link(ticket) in message.body


def test_customer_status_change_mails_the_responsible_staff(setup, ticket, commit):
    solved = TicketStatus.objects.get(name="Solved")

    commit(ticket_set_status, actor=setup.customer, ticket=ticket, status=solved)

    assert recipients() == sorted([setup.agent.email, setup.colleague.email])
    assert all(desk_link(ticket) in message.body for message in mail.outbox)


def test_setting_the_current_status_again_mails_nobody(setup, ticket, commit):
    commit(ticket_set_status, actor=setup.agent, ticket=ticket, status=ticket.status)

    assert mail.outbox == []


def test_the_status_mail_names_the_status_that_was_set(
    setup, ticket, django_capture_on_commit_callbacks
):
    """The mail is built later than the change; it reports what was done, not the status the
    ticket has by the time the worker runs."""
    in_progress = TicketStatus.objects.get(name="In progress")
    solved = TicketStatus.objects.get(name="Solved")
    with django_capture_on_commit_callbacks() as callbacks:
        ticket_set_status(actor=setup.agent, ticket=ticket, status=in_progress)
    Ticket.objects.filter(pk=ticket.pk).update(status=solved)

    for callback in callbacks:
        callback()

    [message] = mail.outbox
    assert "In progress" in message.subject
    assert "Solved" not in message.subject


def test_reopening_reply_sends_one_mail(setup, ticket, commit):
    closed = TicketStatus.objects.get(name="Closed")
    commit(ticket_set_status, actor=setup.agent, ticket=ticket, status=closed)
    mail.outbox.clear()

    commit(ticket_reply, actor=setup.customer, ticket=ticket, body="It is back.")

    assert recipients() == sorted([setup.agent.email, setup.colleague.email])
    assert all("It is back." in message.body for message in mail.outbox)


@pytest.mark.parametrize("change", ["inactive", "no longer reads the address"])
def test_a_customer_who_lost_access_is_not_mailed(setup, ticket, commit, change):
    if change == "inactive":
        setup.customer.is_active = False
        setup.customer.save()
    else:
        setup.customer.write_addresses.clear()

    commit(ticket_reply, actor=setup.agent, ticket=ticket, body="Secret detail.")

    assert mail.outbox == []


# ---------------------------------------------------------------------------------------------
# Internal notes never reach a customer


def test_internal_note_mails_no_customer(setup, ticket, commit):
    commit(ticket_add_internal_note, actor=setup.colleague, ticket=ticket, body="Cheap fix.")

    assert setup.customer.email not in recipients()
    assert recipients() == [setup.agent.email]
    [message] = mail.outbox
    assert "Cheap fix." in message.body
    assert desk_link(ticket) in message.body
    assert "/portal/" not in message.body + html(message)


def test_internal_note_to_a_responsible_user_mails_that_user_only(setup, commit):
    ticket = file_ticket(setup, commit, recipient=setup.agent)
    mail.outbox.clear()

    commit(ticket_add_internal_note, actor=setup.colleague, ticket=ticket, body="FYI")

    assert recipients() == [setup.agent.email]


def test_internal_note_by_the_responsible_user_mails_nobody(setup, commit):
    ticket = file_ticket(setup, commit, recipient=setup.agent)
    mail.outbox.clear()

    commit(ticket_add_internal_note, actor=setup.agent, ticket=ticket, body="Reminder to me.")

    assert mail.outbox == []


def test_internal_note_never_goes_to_an_external_member_of_the_team(setup, ticket, commit):
    setup.team.members.add(setup.customer)  # an administrator's mistake

    commit(ticket_add_internal_note, actor=setup.colleague, ticket=ticket, body="Not for them.")

    assert recipients() == [setup.agent.email]


# ---------------------------------------------------------------------------------------------
# Contents: escaping, language, links


def test_html_part_escapes_user_text_and_text_part_keeps_it(setup, commit):
    ticket = file_ticket(
        setup,
        commit,
        subject="Valve <b>stuck</b>",
        description="<script>alert('x')</script>\nSecond line & more",
    )

    message = mail.outbox[0]
    body = html(message)
    assert "<script>" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body
    assert "Second line &amp; more" in body
    assert "Valve &lt;b&gt;stuck&lt;/b&gt;" in body
    assert "<b>stuck</b>" not in body
    # The text part is plain text: shown as typed, not HTML-escaped.
    assert "<script>alert('x')</script>" in message.body
    assert "Valve <b>stuck</b>" in message.subject
    assert f"#{ticket.number}" in message.subject


def test_subject_is_one_line_whatever_the_ticket_subject(setup, ticket, commit):
    Ticket.objects.filter(pk=ticket.pk).update(subject="Line one\r\nBcc: evil@example.com")

    commit(ticket_reply, actor=setup.agent, ticket=ticket, body="Answer")

    [message] = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.message()["Bcc"] is None


def test_each_recipient_gets_the_mail_in_their_own_language(setup, ticket, commit):
    setup.agent.language = "de"
    setup.agent.save()
    commit(ticket_reply, actor=setup.customer, ticket=ticket, body="Hallo")
    commit(ticket_reply, actor=setup.colleague, ticket=ticket, body="Hello")

    by_recipient = {m.to[0]: m for m in mail.outbox}
    german = [by_recipient[setup.agent.email]]
    english = [by_recipient[setup.colleague.email]]
    # The customer (language "de") got the colleague's reply.
    german.append(by_recipient[setup.customer.email])

    values = {"number": ticket.number, "subject": ticket.subject}
    for language, messages in (("de", german), ("en", english)):
        with translation.override(language):
            expected_subject = gettext("[#%(number)s] New reply: %(subject)s") % values
        for message in messages:
            assert message.subject == expected_subject
            assert message.extra_headers["Content-Language"] == language
            assert f'<html lang="{language}">' in html(message)
    # Sending in another language leaves the caller's language alone.
    assert translation.get_language() == "en"


def test_links_use_the_configured_base_url(setup, ticket, commit, settings):
    settings.PORTAL_BASE_URL = "https://support.example.com/service/"

    commit(ticket_reply, actor=setup.agent, ticket=ticket, body="Done.")
    commit(ticket_reply, actor=setup.customer, ticket=ticket, body="Thanks.")

    by_recipient = {m.to[0]: m for m in mail.outbox}
    number = ticket.number
    assert (
        f"https://support.example.com/service/portal/tickets/{number}/"
        in by_recipient[setup.customer.email].body
    )
    assert (
        f"https://support.example.com/service/desk/tickets/{number}/"
        in by_recipient[setup.agent.email].body
    )


def test_mail_tells_the_recipient_why_they_get_it_and_suppresses_auto_replies(
    setup, ticket, commit
):
    commit(ticket_reply, actor=setup.agent, ticket=ticket, body="Done.")

    [message] = mail.outbox
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert message.from_email == "portal@localhost"


# ---------------------------------------------------------------------------------------------
# After the commit, and only then


def test_nothing_is_sent_before_the_transaction_commits(
    setup, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket_reply(actor=setup.agent, ticket=ticket, body="Later")
        assert mail.outbox == []
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_nothing_is_enqueued_when_the_transaction_rolls_back(setup, ticket, commit):
    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        commit(_reply_then_fail, actor=setup.agent, ticket=ticket, error=Abort)

    assert mail.outbox == []
    assert not Message.objects.filter(body="Never sent").exists()


def _reply_then_fail(*, actor, ticket, error):
    with transaction.atomic():
        ticket_reply(actor=actor, ticket=ticket, body="Never sent")
        raise error


def test_tasks_are_enqueued_with_ids_only(setup, ticket, commit, settings):
    """The database backend stores the arguments as JSON: ids, never objects."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = task_backends["default"]

    message = commit(ticket_reply, actor=setup.agent, ticket=ticket, body="Queued")
    solved = TicketStatus.objects.get(name="Solved")
    commit(ticket_set_status, actor=setup.agent, ticket=ticket, status=solved)

    assert [(r.task.name, r.args, r.kwargs) for r in backend.results] == [
        ("notify_message_added", [], {"message_id": message.pk}),
        (
            "notify_status_changed",
            [],
            {"ticket_id": ticket.pk, "status_id": solved.pk, "actor_id": setup.agent.pk},
        ),
    ]
    assert mail.outbox == []  # the dummy backend only stores tasks


def test_a_broken_task_queue_never_breaks_or_undoes_the_change(setup, ticket, commit, settings):
    settings.TASKS = {"default": {"BACKEND": f"{__name__}.BrokenQueueBackend"}}

    message = commit(ticket_reply, actor=setup.agent, ticket=ticket, body="Kept")

    assert Message.objects.filter(pk=message.pk, body="Kept").exists()
    assert mail.outbox == []


# ---------------------------------------------------------------------------------------------
# A failed send is retried and never loses the change


def test_a_failed_send_is_retried_and_the_reply_stays_saved(setup, ticket, commit, flaky_mail):
    message = commit(ticket_reply, actor=setup.agent, ticket=ticket, body="Second try")

    assert flaky_mail.refused == [setup.customer.email]
    [delivered] = mail.outbox
    assert delivered.to == [setup.customer.email]
    assert "Second try" in delivered.body
    assert Message.objects.filter(pk=message.pk).exists()


def test_a_retry_resends_only_to_the_recipients_that_failed(setup, ticket, commit, flaky_mail):
    flaky_mail.failing = {setup.colleague.email}

    commit(ticket_reply, actor=setup.customer, ticket=ticket, body="Once each")

    assert recipients() == sorted([setup.agent.email, setup.colleague.email])


def test_sending_gives_up_after_the_last_attempt_and_keeps_the_change(
    setup, ticket, commit, flaky_mail
):
    flaky_mail.failures = tasks.MAX_ATTEMPTS + 10
    solved = TicketStatus.objects.get(name="Solved")

    commit(ticket_set_status, actor=setup.agent, ticket=ticket, status=solved)

    assert flaky_mail.refused == [setup.customer.email] * tasks.MAX_ATTEMPTS
    assert mail.outbox == []
    ticket.refresh_from_db()
    assert ticket.status == solved
    assert ticket.closed_at is not None


def test_a_retry_is_deferred_when_the_backend_supports_it(setup, ticket, settings, flaky_mail):
    message = ticket_reply(actor=setup.agent, ticket=ticket, body="Later")
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = task_backends["default"]
    before = timezone.now()

    with pytest.raises(tasks.NotificationNotSent, match="retry scheduled"):
        tasks.notify_message_added.call(message_id=message.pk)

    [retry] = backend.results
    assert retry.kwargs == {
        "message_id": message.pk,
        "attempt": 2,
        "only": [f"user:{setup.customer.pk}"],
    }
    delay = timedelta(seconds=tasks.RETRY_DELAYS[0])
    assert before + delay <= retry.task.run_after <= timezone.now() + delay


# ---------------------------------------------------------------------------------------------
# Production path: the database backend and its worker


def _run_worker():
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


@pytest.mark.django_db(transaction=True)
def test_database_worker_sends_retries_later_and_records_the_failure(setup, settings, flaky_mail):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    ticket = TicketFactory(
        address=setup.address,
        type=setup.type,
        responsible_team=setup.team,
        created_by=setup.customer,
    )

    # The reply commits; the mail waits in the queue for the worker.
    ticket_reply(actor=setup.agent, ticket=ticket, body="On our way.")
    assert mail.outbox == []
    assert DBTaskResult.objects.filter(status="READY").count() == 1

    # First attempt: the mail server fails; the attempt is recorded, a retry waits.
    _run_worker()
    failed = DBTaskResult.objects.get(status="FAILED")
    assert failed.exception_class_path == "tickets.tasks.NotificationNotSent"
    assert "SMTPServerDisconnected" in failed.traceback
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after > timezone.now()
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert mail.outbox == []

    # Its time has come: the worker sends it.
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    _run_worker()
    retry.refresh_from_db()
    assert retry.status == "SUCCESSFUL"
    assert recipients() == [setup.customer.email]
    assert "On our way." in mail.outbox[0].body
    assert ticket.messages.filter(body="On our way.").exists()

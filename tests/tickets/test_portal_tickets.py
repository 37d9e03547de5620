"""The portal's ticket list, ticket page, reply and status change, as external users see them."""

from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    MachineFactory,
    MessageFactory,
    TeamFactory,
    TicketFactory,
    TicketStatusFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets import services
from tickets.models import Attachment, Message, Ticket, TicketEvent, TicketStatus

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# Shared fixtures.


def status(name):
    return TicketStatus.objects.get(name=name)


def row_counts():
    return (
        Ticket.objects.count(),
        Message.objects.count(),
        Attachment.objects.count(),
        TicketEvent.objects.count(),
    )


@pytest.fixture
def world():
    """Three addresses: `site` (the customer may write), `branch` (read only), `foreign`
    (neither); a support agent; the customer (Portal user) and a colleague who may only read."""
    site = AddressFactory(name="Site Works")
    branch = AddressFactory(name="Branch Office")
    foreign = AddressFactory(name="Foreign Corp")
    team = TeamFactory(name="Support")
    fault = TicketTypeFactory(name="Fault")
    agent = UserFactory(roles=["Support agent"], first_name="Agnes", last_name="Agent")
    customer = ExternalUserFactory(
        roles=["Portal user"],
        first_name="Carla",
        last_name="Customer",
        address=site,
        write=[site],
        read=[branch],
        types=[fault],
        teams=[team],
    )
    reader = ExternalUserFactory(roles=["Portal user"], address=site, read=[site, branch])
    return SimpleNamespace(
        site=site,
        branch=branch,
        foreign=foreign,
        team=team,
        fault=fault,
        agent=agent,
        customer=customer,
        reader=reader,
    )


def file_ticket(world, *, address=None, subject="Press stops", description="It stops.", **kw):
    """A ticket filed by the agent (who may file anywhere) through the service."""
    return services.ticket_create(
        actor=kw.pop("actor", world.agent),
        address=address or world.site,
        ticket_type=world.fault,
        subject=subject,
        description=description,
        team=world.team,
        **kw,
    )


def detail_url(ticket):
    return reverse("portal:ticket-detail", kwargs={"number": ticket.number})


def reply_url(ticket):
    return reverse("portal:ticket-reply", kwargs={"number": ticket.number})


def status_url(ticket):
    return reverse("portal:ticket-status", kwargs={"number": ticket.number})


LIST_URL = reverse("portal:ticket-list")


def listed_numbers(response):
    return [ticket.number for ticket in response.context["tickets"]]


# ---------------------------------------------------------------------------------------------
# Who may enter.


@pytest.mark.parametrize(
    "url_name,kwargs",
    [
        ("portal:ticket-list", {}),
        ("portal:ticket-detail", {"number": 100001}),
    ],
)
def test_anonymous_is_sent_to_login(client, url_name, kwargs):
    response = client.get(reverse(url_name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_internal_user_is_sent_to_their_area(client, world):
    ticket = file_ticket(world)
    client.force_login(world.agent)
    for url in (LIST_URL, detail_url(ticket)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("home")


def test_deactivated_user_is_signed_out(client, world):
    client.force_login(world.customer)
    world.customer.is_active = False
    world.customer.save()
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# ---------------------------------------------------------------------------------------------
# The list: scope, filters, search, sort, pagination.


def test_list_shows_exactly_the_tickets_i_may_see(client, world):
    own = file_ticket(world, address=world.site, subject="Own site ticket")
    branch = file_ticket(world, address=world.branch, subject="Branch ticket")
    foreign = file_ticket(world, address=world.foreign, subject="Foreign ticket")
    client.force_login(world.customer)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert set(listed_numbers(response)) == {own.number, branch.number}
    assert response.context["paginator"].count == 2
    assert "Foreign ticket" not in response.content.decode()
    assert f"#{foreign.number}" not in response.content.decode()


def test_list_is_empty_without_the_tickets_right(client, world):
    file_ticket(world)
    nobody = ExternalUserFactory(address=world.site, write=[world.site])
    client.force_login(nobody)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert listed_numbers(response) == []


def test_list_address_filter_offers_only_addresses_of_visible_tickets(client, world):
    file_ticket(world, address=world.site)
    file_ticket(world, address=world.foreign)
    client.force_login(world.customer)
    response = client.get(LIST_URL)
    field = response.context["filter_form"].fields["address"]
    assert set(field.queryset) == {world.site}  # what a submitted value is checked against
    assert [key for key, _label in field.choices if key] == [world.site.pk]  # what is shown
    assert "Foreign Corp" not in response.content.decode()


def test_list_open_closed_filter(client, world):
    open_ticket = file_ticket(world)
    closed_ticket = file_ticket(world)
    services.ticket_set_status(actor=world.agent, ticket=closed_ticket, status=status("Closed"))
    client.force_login(world.customer)
    assert listed_numbers(client.get(LIST_URL)) == [open_ticket.number]
    assert listed_numbers(client.get(LIST_URL, {"state": "closed"})) == [closed_ticket.number]
    both = listed_numbers(client.get(LIST_URL, {"state": "all"}))
    assert set(both) == {open_ticket.number, closed_ticket.number}
    counts = client.get(LIST_URL).context["state_counts"]
    assert counts == {"open": 1, "closed": 1}


def test_list_filters_by_status_type_address_machine_and_mine(client, world):
    machine = MachineFactory(address=world.site)
    other_type = TicketTypeFactory(name="Question about invoices")
    world.customer.ticket_types.add(other_type)
    in_progress = file_ticket(world, subject="Being worked on")
    services.ticket_set_status(actor=world.agent, ticket=in_progress, status=status("In progress"))
    on_machine = file_ticket(world, subject="On a machine", machine=machine)
    at_branch = file_ticket(world, address=world.branch, subject="At the branch")
    mine = services.ticket_create(
        actor=world.customer,
        address=world.site,
        ticket_type=other_type,
        subject="Mine",
        description="Filed by me",
        team=world.team,
    )
    client.force_login(world.customer)

    def numbers(**params):
        response = client.get(LIST_URL, params)
        assert response.status_code == 200
        return set(listed_numbers(response))

    assert numbers(status=status("In progress").pk) == {in_progress.number}
    assert numbers(type=other_type.pk) == {mine.number}
    assert numbers(address=world.branch.pk) == {at_branch.number}
    assert numbers(machine=machine.pk) == {on_machine.number}
    assert numbers(mine="on") == {mine.number}
    assert len(numbers()) == 4


@pytest.mark.parametrize(
    "params",
    [
        {"status": "abc"},
        {"status": "999999"},
        {"type": "x"},
        {"address": "-1"},
        {"machine": "1e9"},
        {"state": "sideways"},
        {"sort": "password"},
        {"sort": "-address__name; DROP TABLE"},
        {"page": "abc"},
        {"page": "99999"},
        {"page": "-3"},
        {"q": "x" * 500},
        {"q": "99999999999999999999999999"},
        {"mine": "maybe"},
    ],
)
def test_list_invalid_parameters_never_fail(client, world, params):
    ticket = file_ticket(world)
    client.force_login(world.customer)
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    if set(params) <= {"sort", "page", "state"}:
        assert listed_numbers(response) == [ticket.number]


def test_list_filter_by_foreign_address_or_machine_is_ignored_and_reported(client, world):
    mine = file_ticket(world, address=world.site)
    file_ticket(world, address=world.foreign)
    foreign_machine = MachineFactory(address=world.foreign)
    client.force_login(world.customer)
    for params in ({"address": world.foreign.pk}, {"machine": foreign_machine.pk}):
        response = client.get(LIST_URL, params)
        assert response.status_code == 200
        assert listed_numbers(response) == [mine.number]
        assert response.context["filter_form"].errors
        assert "Foreign Corp" not in response.content.decode()


def test_search_by_number_subject_and_public_message_text(client, world):
    by_subject = file_ticket(world, subject="Hydraulic leak")
    by_text = file_ticket(world, description="The conveyor belt squeaks")
    services.ticket_reply(actor=world.agent, ticket=by_text, body="Please send a photo of the gear")
    other = file_ticket(world, subject="Unrelated")
    client.force_login(world.customer)

    def search(q):
        return set(listed_numbers(client.get(LIST_URL, {"q": q})))

    assert search("hydraulic") == {by_subject.number}
    assert search("conveyor") == {by_text.number}
    assert search("photo of the gear") == {by_text.number}
    assert search(str(other.number)) == {other.number}
    assert search(f"#{other.number}") == {other.number}
    assert search("nothing matches this") == set()


def test_search_never_matches_internal_notes(client, world):
    ticket = file_ticket(world, subject="Ordinary")
    services.ticket_add_internal_note(
        actor=world.agent, ticket=ticket, body="customer is difficult zebra"
    )
    client.force_login(world.customer)
    response = client.get(LIST_URL, {"q": "zebra", "state": "all"})
    assert listed_numbers(response) == []
    html = response.content.decode()
    assert "difficult" not in html
    assert f"#{ticket.number}" not in html


def test_search_does_not_reach_foreign_tickets(client, world):
    file_ticket(world, address=world.foreign, subject="Secret foreign thing")
    client.force_login(world.customer)
    assert listed_numbers(client.get(LIST_URL, {"q": "secret", "state": "all"})) == []


def test_sort_whitelist_changes_the_order(client, world):
    first = file_ticket(world, subject="Bravo")
    second = file_ticket(world, subject="Alpha")
    third = file_ticket(world, subject="Charlie")
    # The first ticket gets the latest activity.
    services.ticket_reply(actor=world.agent, ticket=first, body="News")
    client.force_login(world.customer)

    def order(sort):
        return listed_numbers(client.get(LIST_URL, {"sort": sort}))

    assert order("-updated_at")[0] == first.number
    assert order("number") == [first.number, second.number, third.number]
    assert order("-number") == [third.number, second.number, first.number]
    assert order("subject") == [second.number, first.number, third.number]
    assert order("created_at") == [first.number, second.number, third.number]
    assert order("nonsense") == order("-updated_at")


def test_sort_by_status(client, world):
    waiting = file_ticket(world, subject="W")
    services.ticket_set_status(
        actor=world.agent, ticket=waiting, status=status("Waiting for customer")
    )
    new = file_ticket(world, subject="N")
    client.force_login(world.customer)
    assert listed_numbers(client.get(LIST_URL, {"sort": "status"})) == [new.number, waiting.number]
    assert listed_numbers(client.get(LIST_URL, {"sort": "-status"})) == [
        waiting.number,
        new.number,
    ]


def make_tickets(world, count, address=None):
    return TicketFactory.create_batch(
        count, address=address or world.site, type=world.fault, responsible_team=world.team
    )


def test_pagination_25_a_page(client, world):
    make_tickets(world, 60)
    client.force_login(world.customer)
    first = client.get(LIST_URL, {"sort": "number"})
    assert len(first.context["tickets"]) == 25
    assert first.context["paginator"].count == 60
    assert first.context["paginator"].num_pages == 3
    third = client.get(LIST_URL, {"sort": "number", "page": 3})
    assert len(third.context["tickets"]) == 10
    assert set(listed_numbers(first)).isdisjoint(listed_numbers(third))
    # A page beyond the last shows the last page.
    assert listed_numbers(client.get(LIST_URL, {"sort": "number", "page": 99})) == (
        listed_numbers(third)
    )
    # Page links keep the filters.
    assert "sort=number&amp;page=2" in first.content.decode()
    # The middle page links back and on, and marks itself as the current page.
    middle = client.get(LIST_URL, {"sort": "number", "page": 2}).content.decode()
    assert 'href="?sort=number&amp;page=1" rel="prev">Previous</a>' in middle
    assert 'href="?sort=number&amp;page=3" rel="next">Next</a>' in middle
    assert '<li class="page-item active" aria-current="page"><span class="page-link">2</span>' in (
        middle
    )


def test_list_counts_only_the_scope(client, world):
    make_tickets(world, 3)
    make_tickets(world, 7, address=world.foreign)
    client.force_login(world.customer)
    response = client.get(LIST_URL)
    assert response.context["paginator"].count == 3
    assert response.context["state_counts"] == {"open": 3, "closed": 0}


def test_list_query_count_does_not_grow_with_rows(client, world, django_assert_max_num_queries):
    client.force_login(world.customer)
    make_tickets(world, 30)
    client.get(LIST_URL)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get(LIST_URL, {"q": "stops"}).status_code == 200
    make_tickets(world, 30, address=world.branch)
    with django_assert_max_num_queries(len(small)):
        response = client.get(LIST_URL, {"q": "stops"})
    assert response.context["paginator"].count == 60
    assert len(small) <= 12, [query["sql"] for query in small.captured_queries]


def test_list_caps_long_counts_and_says_so(client, world, settings):
    """Past LIST_COUNT_CAP rows the open/closed counts stop counting and say "more than …";
    the list itself counts at least as far as the page it shows (here all 7)."""
    settings.LIST_COUNT_CAP = 5
    make_tickets(world, 7)
    client.force_login(world.customer)
    response = client.get(LIST_URL)
    text = " ".join(response.content.decode().split())
    assert "more than 5 open" in text
    assert "0 closed" in text
    assert "7 tickets" in text
    assert len(response.context["tickets"]) == 7


def test_list_cap_keeps_paging_past_the_cap(client, world, settings):
    settings.LIST_COUNT_CAP = 5
    make_tickets(world, 60)
    client.force_login(world.customer)
    first = client.get(LIST_URL)
    assert first.context["page_obj"].has_next()
    assert first.context["paginator"].capped
    assert "more than 25 tickets" in " ".join(first.content.decode().split())
    third = client.get(LIST_URL, {"page": 3})
    assert third.context["page_obj"].number == 3
    assert len(third.context["tickets"]) == 10
    assert not third.context["page_obj"].has_next()
    assert not third.context["paginator"].capped  # counting reached the end: exact again
    assert "60 tickets" in " ".join(third.content.decode().split())


def test_list_below_the_cap_counts_exactly(client, world, settings):
    settings.LIST_COUNT_CAP = 5
    make_tickets(world, 4)
    client.force_login(world.customer)
    text = " ".join(client.get(LIST_URL).content.decode().split())
    assert "4 tickets" in text and "more than" not in text
    assert "4 open" in text


# ---------------------------------------------------------------------------------------------
# The ticket page.


def test_detail_shows_the_conversation_as_a_chat(client, world):
    ticket = file_ticket(
        world, actor=world.customer, description="First line\nsecond line <script>x</script>"
    )
    services.ticket_reply(actor=world.agent, ticket=ticket, body="We are on our way")
    client.force_login(world.customer)
    response = client.get(detail_url(ticket))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="chat-message mine"' in html
    assert 'class="chat-message theirs"' in html
    assert "We are on our way" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x</script>" not in html
    assert html.index("second line") < html.index("We are on our way")


def test_detail_of_a_foreign_ticket_is_404(client, world):
    foreign = file_ticket(world, address=world.foreign)
    client.force_login(world.customer)
    assert client.get(detail_url(foreign)).status_code == 404
    assert client.get(reverse("portal:ticket-detail", kwargs={"number": 999999})).status_code == 404


def test_detail_never_shows_internal_notes_or_their_files(client, world):
    ticket = file_ticket(world)
    services.ticket_add_internal_note(
        actor=world.agent,
        ticket=ticket,
        body="Internal: customer owes money",
        files=[SimpleUploadedFile("internal-memo.txt", b"secret")],
    )
    client.force_login(world.customer)
    html = client.get(detail_url(ticket)).content.decode()
    assert "owes money" not in html
    assert "internal-memo.txt" not in html


def test_detail_shows_public_history_only(client, world):
    ticket = file_ticket(world)
    services.ticket_set_status(actor=world.agent, ticket=ticket, status=status("In progress"))
    TicketEvent.objects.create(
        ticket=ticket, actor=world.agent, kind=TicketEvent.Kind.FORWARDED, new_value="Backoffice"
    )
    client.force_login(world.customer)
    response = client.get(detail_url(ticket))
    kinds = {event.kind for event in response.context["history"]}
    assert kinds == {TicketEvent.Kind.CREATED, TicketEvent.Kind.STATUS_CHANGED}
    assert "Backoffice" not in response.content.decode()
    assert "In progress" in response.content.decode()


def test_detail_lists_attachments_as_download_links(client, world):
    ticket = file_ticket(world, files=[SimpleUploadedFile("photo.jpg", b"jpegdata")])
    attachment = Attachment.objects.get(message__ticket=ticket)
    client.force_login(world.customer)
    html = client.get(detail_url(ticket)).content.decode()
    url = reverse(
        "portal:attachment-download", kwargs={"number": ticket.number, "pk": attachment.pk}
    )
    assert f'href="{url}"' in html
    assert "photo.jpg" in html


def test_writer_gets_reply_form_and_status_control(client, world):
    ticket = file_ticket(world)
    client.force_login(world.customer)
    response = client.get(detail_url(ticket))
    assert response.context["can_reply"]
    assert response.context["status_choices"]
    html = response.content.decode()
    assert f'action="{reply_url(ticket)}"' in html
    assert f'action="{status_url(ticket)}"' in html


def test_reader_sees_no_reply_form_and_no_status_control(client, world):
    ticket = file_ticket(world, address=world.branch)
    client.force_login(world.customer)  # branch is in the read set only
    response = client.get(detail_url(ticket))
    assert response.status_code == 200
    assert not response.context["can_reply"]
    assert response.context["status_choices"] == []
    html = response.content.decode()
    assert reply_url(ticket) not in html
    assert status_url(ticket) not in html
    assert 'id="reply-refusal"' in html


def test_detail_query_count_does_not_grow_with_messages(
    client, world, django_assert_max_num_queries
):
    ticket = file_ticket(world)
    client.force_login(world.customer)

    def grow(count):
        for index in range(count):
            message = MessageFactory(
                ticket=ticket, author=world.agent if index % 2 else world.customer
            )
            Attachment.objects.create(
                message=message,
                file=ContentFile(b"data", name="file.txt"),
                original_name=f"file-{message.pk}.txt",
                size=4,
            )
            TicketEvent.objects.create(
                ticket=ticket,
                actor=world.agent,
                kind=TicketEvent.Kind.STATUS_CHANGED,
                old_value="New",
                new_value="In progress",
            )
            MessageFactory(ticket=ticket, author=world.agent, kind=Message.Kind.INTERNAL_NOTE)

    grow(5)
    client.get(detail_url(ticket))  # warm up
    with CaptureQueriesContext(connection) as small:
        client.get(detail_url(ticket))
    grow(25)  # 30 messages with attachments and events in all
    with django_assert_max_num_queries(len(small)):
        response = client.get(detail_url(ticket))
    assert len(response.context["conversation"]) == 31
    assert len(small) <= 20, [query["sql"] for query in small.captured_queries]


# ---------------------------------------------------------------------------------------------
# Replying.


def test_reply_is_saved_and_shown(client, world):
    ticket = file_ticket(world)
    client.force_login(world.customer)
    response = client.post(
        reply_url(ticket),
        {"body": "Here is the photo", "files": [SimpleUploadedFile("a.png", b"png")]},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(detail_url(ticket))
    message = ticket.messages.latest("pk")
    assert (message.author, message.kind, message.body) == (
        world.customer,
        Message.Kind.REPLY,
        "Here is the photo",
    )
    assert [a.original_name for a in message.attachments.all()] == ["a.png"]
    page = client.get(response["Location"])
    assert "Here is the photo" in page.content.decode()
    assert "Your reply has been sent." in page.content.decode()


def test_reply_to_a_closed_ticket_reopens_it(client, world):
    ticket = file_ticket(world)
    services.ticket_set_status(actor=world.agent, ticket=ticket, status=status("Closed"))
    client.force_login(world.customer)
    page = client.get(detail_url(ticket)).content.decode()
    assert "Sending a reply reopens it" in page
    response = client.post(reply_url(ticket), {"body": "It is broken again"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert not ticket.is_closed
    assert ticket.status.is_default
    assert ticket.events.filter(kind=TicketEvent.Kind.REOPENED).exists()


def test_reply_get_is_not_allowed(client, world):
    ticket = file_ticket(world)
    client.force_login(world.customer)
    assert client.get(reply_url(ticket)).status_code == 405
    assert client.get(status_url(ticket)).status_code == 405


def test_reply_by_a_reader_is_403_and_saves_nothing(client, world):
    ticket = file_ticket(world, address=world.branch)
    client.force_login(world.customer)
    before = row_counts()
    response = client.post(
        reply_url(ticket), {"body": "forged", "files": [SimpleUploadedFile("x.txt", b"x")]}
    )
    assert response.status_code == 403
    assert row_counts() == before


def test_reply_to_a_foreign_ticket_is_404_and_saves_nothing(client, world):
    ticket = file_ticket(world, address=world.foreign)
    client.force_login(world.customer)
    before = row_counts()
    assert client.post(reply_url(ticket), {"body": "forged"}).status_code == 404
    assert client.post(status_url(ticket), {"status": status("Closed").pk}).status_code == 404
    assert row_counts() == before


def test_reply_without_text_rerenders_the_page_with_the_error(client, world):
    ticket = file_ticket(world)
    client.force_login(world.customer)
    before = row_counts()
    response = client.post(reply_url(ticket), {"body": "   "})
    assert response.status_code == 200
    assert response.context["reply_form"].errors["body"]
    html = response.content.decode()
    # The customer sees it at the field: marked invalid, with the message below it.
    assert 'class="form-control is-invalid"' in html
    assert "invalid-feedback" in html and "This field is required." in html
    assert row_counts() == before


def test_reply_file_limits_keep_the_typed_text_and_save_nothing(client, world, settings):
    settings.ATTACHMENT_MAX_COUNT = 2
    settings.ATTACHMENT_MAX_SIZE = 10
    ticket = file_ticket(world)
    client.force_login(world.customer)
    before = row_counts()
    too_many = [SimpleUploadedFile(f"f{index}.txt", b"x") for index in range(3)]
    response = client.post(reply_url(ticket), {"body": "My long explanation", "files": too_many})
    assert response.status_code == 200
    assert "at most 2 files" in response.content.decode()
    assert "My long explanation" in response.content.decode()
    too_large = [SimpleUploadedFile("big.bin", b"x" * 11)]
    response = client.post(reply_url(ticket), {"body": "Again", "files": too_large})
    assert response.status_code == 200
    assert "big.bin" in str(response.context["reply_form"].errors["files"])
    assert row_counts() == before


# ---------------------------------------------------------------------------------------------
# Setting the status.


def test_status_change(client, world):
    ticket = file_ticket(world)
    client.force_login(world.customer)
    response = client.post(status_url(ticket), {"status": status("Solved").pk})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == status("Solved")
    assert ticket.is_closed


def test_status_change_by_a_reader_is_403_and_saves_nothing(client, world):
    ticket = file_ticket(world, address=world.branch)
    client.force_login(world.customer)
    before = row_counts()
    response = client.post(status_url(ticket), {"status": status("Closed").pk})
    assert response.status_code == 403
    assert row_counts() == before
    ticket.refresh_from_db()
    assert ticket.status.is_default


@pytest.fixture
def restricted(world):
    """A writer who may only set "Solved"."""
    return ExternalUserFactory(
        roles=["Portal user"],
        address=world.site,
        write=[world.site],
        restrict_status=True,
        statuses=[status("Solved")],
    )


def test_restricted_user_sees_only_allowed_statuses(client, world, restricted):
    ticket = file_ticket(world)
    client.force_login(restricted)
    response = client.get(detail_url(ticket))
    assert response.context["status_choices"] == [status("Solved")]
    html = response.content.decode()
    assert f'<option value="{status("Solved").pk}"' in html
    assert f'<option value="{status("In progress").pk}"' not in html


@pytest.mark.parametrize("forged", ["In progress", "Closed"])
def test_restricted_user_cannot_set_another_status(client, world, restricted, forged):
    ticket = file_ticket(world)
    client.force_login(restricted)
    before = row_counts()
    response = client.post(status_url(ticket), {"status": status(forged).pk})
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert response.context["status_form"].errors["status"]
    assert row_counts() == before
    ticket.refresh_from_db()
    assert ticket.status.is_default


@pytest.mark.parametrize("value", ["", "abc", "999999"])
def test_status_garbage_is_a_form_error(client, world, value):
    ticket = file_ticket(world)
    client.force_login(world.customer)
    before = row_counts()
    response = client.post(status_url(ticket), {"status": value})
    assert response.status_code == 200
    assert response.context["status_form"].errors["status"]
    assert 'class="form-select is-invalid"' in response.content.decode()
    assert row_counts() == before


def test_inactive_status_is_refused(client, world):
    retired = TicketStatusFactory(name="Retired", is_active=False)
    ticket = file_ticket(world)
    client.force_login(world.customer)
    before = row_counts()
    response = client.post(status_url(ticket), {"status": retired.pk})
    assert response.status_code == 200
    assert row_counts() == before

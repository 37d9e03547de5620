"""Filing a ticket in the portal (tickets/new/): the choices offered, forged POSTs, limits."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from tests.factories import (
    AddressFactory,
    ContactPersonFactory,
    ExternalUserFactory,
    MachineFactory,
    TeamFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets.models import Attachment, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

URL = reverse("portal:ticket-create")


# ---------------------------------------------------------------------------------------------
# Shared fixtures.


def row_counts():
    return (
        Ticket.objects.count(),
        Message.objects.count(),
        Attachment.objects.count(),
        TicketEvent.objects.count(),
    )


@pytest.fixture
def world():
    """`site` the customer may file at; `branch` it may only read; `foreign` neither. Each has
    a machine. The customer may file "Fault" tickets to the team "Support" or to Agnes."""
    site = AddressFactory(name="Site Works")
    branch = AddressFactory(name="Branch Office")
    foreign = AddressFactory(name="Foreign Corp")
    team = TeamFactory(name="Support")
    other_team = TeamFactory(name="Sales")
    fault = TicketTypeFactory(name="Fault")
    other_type = TicketTypeFactory(name="Complaint")
    agent = UserFactory(roles=["Support agent"], first_name="Agnes", last_name="Agent")
    other_agent = UserFactory(roles=["Support agent"], first_name="Otto", last_name="Other")
    contact = ContactPersonFactory(address=site)
    customer = ExternalUserFactory(
        roles=["Portal user"],
        address=site,
        contact_person=contact,
        write=[site],
        read=[branch],
        types=[fault],
        teams=[team],
        recipients=[agent],
    )
    return SimpleNamespace(
        site=site,
        branch=branch,
        foreign=foreign,
        team=team,
        other_team=other_team,
        fault=fault,
        other_type=other_type,
        agent=agent,
        other_agent=other_agent,
        contact=contact,
        customer=customer,
        machine=MachineFactory(address=site, name="Site press"),
        branch_machine=MachineFactory(address=branch, name="Branch press"),
        foreign_machine=MachineFactory(address=foreign, name="Foreign press"),
    )


def valid_data(world, **overrides):
    data = {
        "address": world.site.pk,
        "type": world.fault.pk,
        "recipient": f"team:{world.team.pk}",
        "machine": world.machine.pk,
        "priority": "high",
        "subject": "Press stops after 10 cycles",
        "description": "Since Monday the press stops.\nWe restarted it twice.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# ---------------------------------------------------------------------------------------------
# The form.


def test_anonymous_and_internal_users_do_not_get_the_form(client, world):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(world.agent)
    assert client.get(URL)["Location"] == reverse("home")


def test_form_offers_only_my_choices(client, world):
    client.force_login(world.customer)
    response = client.get(URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields["address"].queryset) == [world.site]
    assert list(form.fields["type"].queryset) == [world.fault]
    assert set(form.teams.values()) == {world.team}
    assert set(form.people.values()) == {world.agent}
    assert list(form.fields["machine"].queryset) == [world.machine]
    html = response.content.decode()
    for foreign in ("Branch Office", "Foreign Corp", "Sales", "Complaint", "Otto", "Branch press"):
        assert foreign not in html
    assert 'type="file" name="files"' in html
    assert "multiple" in html
    # The page loads its script and Select2 from our own static files, no inline script.
    assert "js/ticket-form.js" in html
    assert "<script>" not in html


def test_single_choices_are_preselected(client, world):
    client.force_login(world.customer)
    form = client.get(URL).context["form"]
    assert form.initial["address"] == world.site.pk
    assert form.initial["type"] == world.fault.pk
    # Two recipients (team and person): nothing preselected.
    assert "recipient" not in form.initial

    world.customer.responsible_users.clear()
    form = client.get(URL).context["form"]
    assert form.initial["recipient"] == f"team:{world.team.pk}"


def test_machine_field_only_with_the_machines_right(client, world):
    """Tickets rights without the Machines right: no machine field, a forged one is ignored."""
    limited = ExternalUserFactory(
        address=world.site, write=[world.site], types=[world.fault], teams=[world.team]
    )
    limited.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_ticket", "add_ticket", "change_ticket"],
            content_type__app_label="tickets",
        )
    )
    client.force_login(limited)
    response = client.get(URL)
    assert response.status_code == 200
    assert "machine" not in response.context["form"].fields
    assert "Site press" not in response.content.decode()
    # A forged machine is ignored: the ticket is filed without it.
    response = client.post(URL, valid_data(world))
    assert response.status_code == 302
    assert Ticket.objects.get().machine is None


@pytest.mark.parametrize(
    "user_kwargs,reason",
    [
        ({"roles": []}, "no role grants the basic right Tickets (file)"),
        ({"write": []}, "no active address in the write set"),
        ({"types": []}, "no active ticket type is allowed"),
        ({"teams": [], "recipients": []}, "no active team or user responsible"),
    ],
)
def test_without_the_right_to_file_the_page_explains_why(client, world, user_kwargs, reason):
    kwargs = {
        "roles": ["Portal user"],
        "address": world.site,
        "read": [world.site],
        "write": [world.site],
        "types": [world.fault],
        "teams": [world.team],
        **user_kwargs,
    }
    user = ExternalUserFactory(**kwargs)
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["form"] is None
    html = response.content.decode()
    assert reason in html
    assert 'name="subject"' not in html
    before = row_counts()
    assert client.post(URL, valid_data(world)).status_code == 403
    assert row_counts() == before


# ---------------------------------------------------------------------------------------------
# Filing.


def test_filing_a_ticket(client, world):
    client.force_login(world.customer)
    data = valid_data(world)
    data["files"] = [
        SimpleUploadedFile("Prüfbericht.pdf", b"%PDF-1.4", content_type="application/pdf"),
        SimpleUploadedFile("photo.jpg", b"jpeg"),
    ]
    response = client.post(URL, data)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("portal:ticket-detail", args=[ticket.number])
    assert (ticket.address, ticket.type, ticket.machine) == (world.site, world.fault, world.machine)
    assert (ticket.responsible_team, ticket.responsible_user) == (world.team, None)
    assert ticket.priority == "high"
    assert ticket.created_by == world.customer
    assert ticket.contact_person == world.contact
    assert ticket.status.is_default
    description = ticket.messages.get()
    assert description.kind == Message.Kind.DESCRIPTION
    assert description.body.startswith("Since Monday")
    assert sorted(a.original_name for a in description.attachments.all()) == [
        "Prüfbericht.pdf",
        "photo.jpg",
    ]
    assert ticket.events.filter(kind=TicketEvent.Kind.CREATED).exists()
    page = client.get(response["Location"]).content.decode()
    assert f"Ticket {ticket.number} has been filed" in page


def test_filing_to_a_person(client, world):
    client.force_login(world.customer)
    response = client.post(URL, valid_data(world, recipient=f"user:{world.agent.pk}"))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.responsible_team, ticket.responsible_user) == (None, world.agent)


def test_filing_without_a_machine(client, world):
    client.force_login(world.customer)
    response = client.post(URL, valid_data(world, machine=""))
    assert response.status_code == 302
    assert Ticket.objects.get().machine is None


@pytest.mark.parametrize(
    "field,value",
    [
        ("address", lambda w: w.branch.pk),  # readable, not writable
        ("address", lambda w: w.foreign.pk),
        ("address", lambda w: "abc"),
        ("type", lambda w: w.other_type.pk),
        ("type", lambda w: 999999),
        ("recipient", lambda w: f"team:{w.other_team.pk}"),
        ("recipient", lambda w: f"user:{w.other_agent.pk}"),
        ("recipient", lambda w: f"user:{w.customer.pk}"),
        ("recipient", lambda w: "team:999999"),
        ("recipient", lambda w: "team:abc"),
        ("recipient", lambda w: f"team:0{w.team.pk}"),  # not a key the list offers
        ("recipient", lambda w: "user:"),
        ("recipient", lambda w: "user:" + "9" * 30),  # beyond any database integer
        ("recipient", lambda w: f"group:{w.team.pk}"),
        ("recipient", lambda w: str(w.team.pk)),
        ("machine", lambda w: w.foreign_machine.pk),
        ("machine", lambda w: w.branch_machine.pk),
        ("machine", lambda w: "xyz"),
        ("priority", lambda w: "whenever"),
        ("subject", lambda w: ""),
        ("subject", lambda w: "x" * 201),
        ("description", lambda w: ""),
    ],
)
def test_forged_or_invalid_values_are_form_errors_and_save_nothing(client, world, field, value):
    client.force_login(world.customer)
    before = row_counts()
    response = client.post(URL, valid_data(world, **{field: value(world)}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert row_counts() == before
    # The page does not reveal the forged object either.
    html = response.content.decode()
    for name in ("Foreign Corp", "Sales", "Otto", "Foreign press", "Branch press"):
        assert name not in html


def test_machine_of_another_fileable_address_is_refused(client, world):
    second = AddressFactory(name="Second Site")
    second_machine = MachineFactory(address=second, name="Second press")
    world.customer.write_addresses.add(second)
    client.force_login(world.customer)
    # Both machines are offered (no JavaScript: each labelled with its address) …
    offered = set(client.get(URL).context["form"].fields["machine"].queryset)
    assert offered == {world.machine, second_machine}
    # … but the pair must match.
    before = row_counts()
    response = client.post(URL, valid_data(world, machine=second_machine.pk))
    assert response.status_code == 200
    assert "Choose a machine at the selected address." in response.content.decode()
    assert row_counts() == before


def test_inactive_machine_is_refused(client, world):
    world.machine.is_active = False
    world.machine.save()
    client.force_login(world.customer)
    before = row_counts()
    response = client.post(URL, valid_data(world))
    assert response.status_code == 200
    assert response.context["form"].errors["machine"]
    assert row_counts() == before


def test_too_many_files_give_a_clear_message_and_save_nothing(client, world, settings):
    settings.ATTACHMENT_MAX_COUNT = 2
    client.force_login(world.customer)
    before = row_counts()
    data = valid_data(world)
    data["files"] = [SimpleUploadedFile(f"f{index}.txt", b"x") for index in range(3)]
    response = client.post(URL, data)
    assert response.status_code == 200
    assert "Attach at most 2 files to a message (you chose 3)." in response.content.decode()
    assert row_counts() == before
    # What was typed is still there.
    assert "Press stops after 10 cycles" in response.content.decode()


def test_too_large_file_gives_a_clear_message_and_saves_nothing(client, world, settings):
    settings.ATTACHMENT_MAX_SIZE = 100
    client.force_login(world.customer)
    before = row_counts()
    data = valid_data(world)
    data["files"] = [SimpleUploadedFile("huge.iso", b"x" * 101)]
    response = client.post(URL, data)
    assert response.status_code == 200
    assert "huge.iso" in response.content.decode()
    assert "at most 100" in response.content.decode()
    assert row_counts() == before


@pytest.mark.parametrize(
    "field,deactivate",
    [
        ("address", lambda w: w.site),
        ("type", lambda w: w.fault),
        ("recipient", lambda w: w.team),
    ],
)
def test_a_choice_deactivated_before_the_post_is_refused(client, world, field, deactivate):
    """The submitted address, type and recipient are checked against the user's grants as read
    for this request (`policy.fileable_ids`), which hold active rows only."""
    # Something else stays allowed of each kind, so the user can still file at all (Agnes is
    # the other recipient).
    world.customer.write_addresses.add(AddressFactory(name="Spare Site"))
    world.customer.ticket_types.add(TicketTypeFactory(name="Spare type"))
    client.force_login(world.customer)
    client.get(URL)
    chosen = deactivate(world)
    chosen.is_active = False
    chosen.save()
    before = row_counts()
    response = client.post(URL, valid_data(world, machine=""))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert row_counts() == before


def test_address_access_removed_between_form_and_post(client, world):
    client.force_login(world.customer)
    client.get(URL)
    world.customer.write_addresses.clear()
    before = row_counts()
    response = client.post(URL, valid_data(world))
    assert response.status_code == 403  # can no longer file at all
    assert row_counts() == before


def test_preselect_from_query_string(client, world):
    second = AddressFactory(name="Second Site")
    world.customer.write_addresses.add(second)
    client.force_login(world.customer)
    response = client.get(URL, {"address": second.pk, "machine": "x"})
    assert response.status_code == 200
    assert response.context["form"].initial["address"] == second.pk
    assert f'<option value="{second.pk}" selected>' in response.content.decode()


def test_filing_runs_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    """Filing reads each related object once: no existence query per foreign key on top of
    the policy's checks (issue 5: the filing POST)."""
    client.force_login(world.customer)
    client.post(URL, valid_data(world))  # warm up (session, content types)
    # PostgreSQL draws the number from a sequence; SQLite counts in a row of its own (4 more).
    # The recipient is looked up alone (one row), not found in both recipient lists.
    with django_assert_max_num_queries(17 if connection.vendor == "postgresql" else 21):
        response = client.post(URL, valid_data(world))
    assert response.status_code == 302
    assert Ticket.objects.count() == 2


def test_a_refused_form_shows_each_error_at_its_field(client, world):
    """The form keeps what was typed and marks the fields to fix (the page writes its fields
    itself, not through crispy-forms: tickets_extras.form_field)."""
    client.force_login(world.customer)
    before = row_counts()
    response = client.post(URL, valid_data(world, subject="", type=world.other_type.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="div_id_subject"' in html and 'id="div_id_type"' in html
    assert html.count("is-invalid") == 2
    assert html.count('class="invalid-feedback d-block"') == 2
    assert "Since Monday the press stops." in html  # the description is kept
    assert row_counts() == before
    # Shown again, "Send to" lists every team and person the user may send to, the chosen one
    # selected (a submitted form reads them only now).
    recipient = response.context["form"]["recipient"]
    assert f'<option value="team:{world.team.pk}" selected>' in str(recipient)
    assert f'<option value="user:{world.agent.pk}">' in str(recipient)


def test_the_empty_form_reads_each_list_once(client, world, django_assert_max_num_queries):
    """The form page reads addresses, types, recipients and machines once each and offers
    them as read: no second query to render a list or to find a single choice (issue 5)."""
    client.force_login(world.customer)
    client.get(URL)  # warm up (session, content types)
    # session, user, grants, teams, people, addresses, types, machines
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<option value="{world.site.pk}"' in page
    assert f'<option value="{world.foreign.pk}"' not in page

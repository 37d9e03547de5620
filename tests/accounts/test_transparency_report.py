"""The access report: a streamed CSV of external users and their effective access, for the
periodic access review; protected against formula injection; bounded queries per user."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.http import StreamingHttpResponse
from django.urls import reverse

from access import policy
from accounts.models import User
from accounts.transparency import REPORT_HEADER, csv_cell
from tests.factories import (
    AddressFactory,
    ExternalUserFactory,
    MachineFactory,
    TeamFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
    role,
)
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

REPORT_URL = reverse("admin:accounts_user_access_report")
CHANGELIST_URL = reverse("admin:accounts_user_changelist")


def rows_of(response):
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    header, lines = rows[0], rows[1:]
    assert header == [str(label) for label in REPORT_HEADER]
    return [dict(zip(header, line, strict=True)) for line in lines]


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def world():
    headquarters = AddressFactory(number="10001", name="Acme Maschinenbau GmbH")
    branch = AddressFactory(number="10023", name="Acme Nord")
    closed = AddressFactory(number="10099", name="Acme Alt", is_active=False)
    team = TeamFactory(name="Service")
    repair = TicketTypeFactory(name="Repair")
    customer = ExternalUserFactory(
        email="erika@example.com",
        first_name="Erika",
        last_name="Kunde",
        address=headquarters,
        roles=["Portal user"],
        write=[headquarters],
        read=[branch, closed],
        types=[repair],
        teams=[team],
    )
    reader = ExternalUserFactory(
        email="otto@example.com",
        first_name="Otto",
        last_name="Leser",
        address=branch,
        roles=["Portal user"],
        read=[branch],
    )
    for address in (headquarters, branch, closed):
        TicketFactory(address=address, type=repair, responsible_team=team)
        MachineFactory(address=address)
    UserFactory(email="agent@example.com", roles=["Support agent"])
    return {"customer": customer, "reader": reader, "team": team, "repair": repair}


def test_report_lists_every_external_user_with_its_effective_access(staff_client, world):
    response = staff_client.get(REPORT_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="access-report-')
    rows = rows_of(response)

    assert [row["E-mail"] for row in rows] == ["erika@example.com", "otto@example.com"]
    erika, otto = rows
    assert erika["Name"] == "Erika Kunde"
    assert erika["Active"] == "yes"
    assert erika["Home address"] == "10001 Acme Maschinenbau GmbH"
    assert erika["Readable addresses (read or write permission)"] == "10001; 10023"
    assert erika["Writable addresses"] == "10001"
    assert erika["Configured but not in effect (inactive addresses)"] == "10099"
    assert erika["Basic rights"] == (
        "Addresses: read | Machines: read | Contact person: read | "
        "Tickets: read, file, reply and set status"
    )
    assert erika["Roles"] == "Portal user"
    assert (erika["Can file tickets"], erika["Why not"]) == ("yes", "")
    assert erika["Ticket types"] == "Repair"
    assert erika["Recipients"] == "Service"
    assert erika["Restrict customer status"] == "no"
    assert erika["Visible tickets"] == str(Ticket.objects.visible_to(world["customer"]).count())
    assert (erika["Visible tickets"], erika["Tickets the user may answer"]) == ("2", "1")
    assert erika["Visible machines"] == "2"

    assert otto["Writable addresses"] == ""
    assert otto["Can file tickets"] == "no"
    assert otto["Why not"] == policy.can_file(world["reader"]).reason
    assert otto["Why not"] == "no active address in the write set"
    assert otto["Statuses the user may set"] == ""


def test_cells_that_look_like_formulas_are_quoted(staff_client, world):
    address = AddressFactory(number="10500", name='=HYPERLINK("http://evil")')
    ExternalUserFactory(
        email="mallory@example.com",
        first_name="+cmd|' /C calc'!A0",
        last_name="",
        address=address,
        roles=["Portal user"],
        write=[address],
        types=[TicketTypeFactory(name="@SUM(1+1)")],
        teams=[TeamFactory(name="-2+3")],
    )
    rows = {row["E-mail"]: row for row in rows_of(staff_client.get(REPORT_URL))}
    mallory = rows["mallory@example.com"]
    assert mallory["Name"] == "'+cmd|' /C calc'!A0"
    assert mallory["Home address"] == '10500 =HYPERLINK("http://evil")'  # not at the start
    assert mallory["Ticket types"] == "'@SUM(1+1)"
    assert mallory["Recipients"] == "'-2+3"
    for row in rows.values():
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        (12, "12"),
        (None, ""),
    ],
)
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


def test_report_needs_the_view_permission_on_users(client, world):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(REPORT_URL).status_code == 403
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    assert client.get(REPORT_URL).status_code == 200


def test_external_users_never_get_the_report(client, world):
    client.force_login(world["customer"])
    response = client.get(REPORT_URL)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_the_changelist_links_to_the_report(staff_client, world):
    assert REPORT_URL in staff_client.get(CHANGELIST_URL).content.decode()


def test_the_action_exports_the_selected_external_users(staff_client, world):
    agent = User.objects.get(email="agent@example.com")
    response = staff_client.post(
        CHANGELIST_URL,
        {
            "action": "export_access_report",
            "_selected_action": [world["reader"].pk, agent.pk],
        },
    )
    assert response.status_code == 200
    assert [row["E-mail"] for row in rows_of(response)] == ["otto@example.com"]


def _report_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(10_000) as captured:
        response = client.get(REPORT_URL)
        rows = rows_of(response)  # the queries run while the response streams
    return len(captured), len(rows)


def test_queries_are_bounded_per_user(staff_client, django_assert_max_num_queries):
    def customer(addresses):
        sites = [AddressFactory() for _ in range(addresses)]
        ExternalUserFactory(
            roles=[role("Portal editor")],
            read=sites[: addresses // 2],
            write=sites[addresses // 2 :],
            types=[TicketTypeFactory(name="Repair")],
            teams=[TeamFactory(name="Service")],
        )

    for _ in range(2):
        customer(2)
    rows_of(staff_client.get(REPORT_URL))  # warm caches (content types, session, permission names)
    two, count = _report_queries(staff_client, django_assert_max_num_queries)
    assert count == 2
    for _ in range(4):
        customer(2)
    six, count = _report_queries(staff_client, django_assert_max_num_queries)
    assert count == 6
    per_user = (six - two) / 4
    assert per_user <= 20, per_user
    # And a user's queries do not grow with the size of its address sets.
    customer(60)
    seven, count = _report_queries(staff_client, django_assert_max_num_queries)
    assert count == 7
    assert seven - six <= per_user

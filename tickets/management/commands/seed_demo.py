"""`manage.py seed_demo`: demo data that shows every access case of the portal.

Idempotent: every row is looked up by its natural key (address and machine number, e-mail,
name, ticket subject at its address) and only created when missing; rows that exist are left as
they are, so an administrator's changes survive a second run. Accounts get the demo password
only when they are created. Tickets and their conversations go through `tickets.services`, like
a user's, and are then dated back over the past weeks so lists and dashboards look lived in.

The accounts share a published password and one of them is a superuser: the command refuses to
run with DEBUG off unless `--force` says the site is a demo site.
"""

import base64
import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from addresses.models import Address, ContactPerson, Machine
from tickets import services
from tickets.models import (
    Attachment,
    Message,
    Priority,
    Ticket,
    TicketEvent,
    TicketStatus,
    TicketType,
)

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - published on purpose: demo accounts only

PORTAL = "/portal/"
DESK = "/desk/"
ADMIN = "/admin/"

# ---------------------------------------------------------------------------------------------
# The data. Customers: headquarters with sites, each with contact persons and machines.

CUSTOMERS = [
    {
        "number": "10001",
        "name": "Nordwerk Maschinenbau GmbH",
        "street": "Hafenstraße 12",
        "postal_code": "20457",
        "city": "Hamburg",
        "phone": "+49 40 5550 100",
        "email": "info@nordwerk.example",
        "contacts": [
            ("ms", "Petra", "Hansen", "Head of maintenance", "petra.hansen@nordwerk.example", True),
            ("mr", "Jörg", "Petersen", "Purchasing", "joerg.petersen@nordwerk.example", False),
        ],
        "machines": [
            ("NW-1001", "Hydraulic press PR-400", "Hydrotec", "PR-400", "HT-400-0815", 2019),
            ("NW-1002", "Compressor station", "Aerotech", "AC-55", "AT-55-2231", 2021),
        ],
        "sites": [
            {
                "number": "10002",
                "name_2": "Werk Kiel",
                "street": "Werftstraße 3",
                "postal_code": "24143",
                "city": "Kiel",
                "contacts": [
                    ("mr", "Lars", "Jensen", "Plant manager", "lars.jensen@nordwerk.example", True)
                ],
                "machines": [
                    ("NW-2001", "Laser cutter LC-3015", "Lumatec", "LC-3015", "LU-3015-077", 2020),
                    ("NW-2002", "Conveyor belt CB-12", "Fördertech", "CB-12", "FT-12-5521", 2017),
                ],
            },
            {
                "number": "10003",
                "name_2": "Werk Lübeck",
                "street": "Kanalstraße 40",
                "postal_code": "23552",
                "city": "Lübeck",
                "contacts": [
                    ("ms", "Mia", "Schulz", "Shift supervisor", "mia.schulz@nordwerk.example", True)
                ],
                "machines": [
                    (
                        "NW-3001",
                        "CNC milling centre VM-850",
                        "Fräsmaster",
                        "VM-850",
                        "FM-850-19",
                        2022,
                    )
                ],
            },
            {
                "number": "10004",
                "name_2": "Werk Bremen",
                "street": "Hafenrandstraße 7",
                "postal_code": "28217",
                "city": "Bremen",
                "contacts": [
                    ("mr", "Ole", "Brandt", "Plant manager", "ole.brandt@nordwerk.example", True)
                ],
                "machines": [
                    ("NW-4001", "Robot welding cell RW-6", "Weldtronic", "RW-6", "WT-6-3310", 2023)
                ],
            },
        ],
    },
    {
        "number": "10010",
        "name": "Alpenblick Verpackung AG",
        "street": "Leopoldstraße 88",
        "postal_code": "80802",
        "city": "München",
        "phone": "+49 89 5550 200",
        "email": "kontakt@alpenblick.example",
        "contacts": [
            (
                "mr",
                "Walter",
                "Huber",
                "Production manager",
                "walter.huber@alpenblick.example",
                True,
            ),
            (
                "ms",
                "Rosa",
                "Leitner",
                "Quality assurance",
                "rosa.leitner@alpenblick.example",
                False,
            ),
        ],
        "machines": [
            (
                "AB-1001",
                "Labelling machine LX-200",
                "Etikett-Systeme",
                "LX-200",
                "ES-200-4410",
                2018,
            ),
            ("AB-1002", "Carton erector CE-30", "Packwerk", "CE-30", "PW-30-0192", 2020),
        ],
        "sites": [
            {
                "number": "10011",
                "name_2": "Werk Rosenheim",
                "street": "Gewerbering 5",
                "postal_code": "83026",
                "city": "Rosenheim",
                "contacts": [
                    (
                        "mr",
                        "Franz",
                        "Moser",
                        "Plant manager",
                        "franz.moser@alpenblick.example",
                        True,
                    )
                ],
                "machines": [
                    ("AB-2001", "Shrink wrapper SW-900", "Packwerk", "SW-900", "PW-900-0077", 2021)
                ],
            },
        ],
    },
    {
        "number": "10020",
        "name": "Rheintal Foods KG",
        "street": "Rheinuferstraße 21",
        "postal_code": "50668",
        "city": "Köln",
        "phone": "+49 221 5550 300",
        "email": "service@rheintal.example",
        "contacts": [
            (
                "mr",
                "Stefan",
                "Becker",
                "Technical director",
                "stefan.becker@rheintal.example",
                True,
            ),
        ],
        "machines": [
            ("RF-1001", "Cooling unit CU-75", "Kältetechnik Nord", "CU-75", "KN-75-1180", 2016),
            ("RF-1002", "Filling line FL-4", "Abfülltechnik", "FL-4", "AT-4-0931", 2022),
        ],
        "sites": [
            {
                "number": "10021",
                "name_2": "Lager Bonn",
                "street": "Am Hafen 2",
                "postal_code": "53111",
                "city": "Bonn",
                "contacts": [
                    ("ms", "Anna", "Wolf", "Warehouse manager", "anna.wolf@rheintal.example", True)
                ],
                "machines": [
                    ("RF-2001", "Pallet wrapper PW-2", "Packwerk", "PW-2", "PW-2-5120", 2019)
                ],
            },
        ],
    },
]

TEAMS = [("Support", "support@fieldservice.example"), ("Service", "service@fieldservice.example")]

# The statuses and "Question" come from migration tickets/0004; they are reused by name.
STATUSES = [
    ("New", 10, False),
    ("In progress", 20, False),
    ("Waiting for customer", 30, False),
    ("Solved", 40, True),
    ("Closed", 50, True),
]
TICKET_TYPES = [
    ("Malfunction", 20, "A machine does not work as it should."),
    ("Maintenance request", 30, "Ask for a maintenance visit or an inspection."),
    ("Spare parts", 40, "Order spare parts or ask for an offer."),
    ("Question", 10, ""),
]
ALL_TYPES = [name for name, _order, _description in TICKET_TYPES]


@dataclass
class Account:
    key: str
    email: str
    first_name: str
    last_name: str
    case: str
    works_at: str
    superuser: bool = False
    roles: list = field(default_factory=list)
    teams: list = field(default_factory=list)  # team memberships of internal users
    # External access (the fields of the manual page).
    address: str = ""
    contact: tuple = ()  # (first name, last name) of a contact person at `address`
    read: list = field(default_factory=list)
    write: list = field(default_factory=list)
    responsible_teams: list = field(default_factory=list)
    responsible_users: list = field(default_factory=list)
    types: list = field(default_factory=list)
    allowed_statuses: list = field(default_factory=list)  # non-empty: restrict_status

    @property
    def external(self):
        return bool(self.address)


ACCOUNTS = [
    Account(
        "admin",
        "alexandra.koenig@fieldservice.example",
        "Alexandra",
        "König",
        "Administrator (superuser)",
        f"{ADMIN}, {DESK}",
        superuser=True,
    ),
    Account(
        "sven",
        "sven.berger@fieldservice.example",
        "Sven",
        "Berger",
        "Support agent (team Support)",
        DESK,
        roles=["Support agent"],
        teams=["Support"],
    ),
    Account(
        "nina",
        "nina.roth@fieldservice.example",
        "Nina",
        "Roth",
        "Support agent (team Service)",
        DESK,
        roles=["Support agent"],
        teams=["Service"],
    ),
    Account(
        "tom",
        "tom.krause@fieldservice.example",
        "Tom",
        "Krause",
        "Support agent (teams Support, Service)",
        DESK,
        roles=["Support agent"],
        teams=["Support", "Service"],
    ),
    Account(
        "walter",
        "walter.huber@alpenblick.example",
        "Walter",
        "Huber",
        "Writer: Portal user, writes 10010",
        PORTAL,
        roles=["Portal user"],
        address="10010",
        contact=("Walter", "Huber"),
        write=["10010"],
        responsible_teams=["Support"],
        types=["Malfunction", "Maintenance request", "Question"],
    ),
    Account(
        "rosa",
        "rosa.leitner@alpenblick.example",
        "Rosa",
        "Leitner",
        "Read-only: Portal user, reads 10010, 10011",
        PORTAL,
        roles=["Portal user"],
        address="10010",
        contact=("Rosa", "Leitner"),
        read=["10010", "10011"],
        responsible_teams=["Support"],
        types=["Question"],
    ),
    Account(
        "stefan",
        "stefan.becker@rheintal.example",
        "Stefan",
        "Becker",
        "Restricted status: may set Solved, Closed only",
        PORTAL,
        roles=["Portal user"],
        address="10020",
        contact=("Stefan", "Becker"),
        write=["10020", "10021"],
        responsible_teams=["Service", "Support"],
        responsible_users=["nina"],
        types=["Malfunction", "Spare parts", "Question"],
        allowed_statuses=["Solved", "Closed"],
    ),
    Account(
        "petra",
        "petra.hansen@nordwerk.example",
        "Petra",
        "Hansen",
        "Several sites: Portal editor, writes 10001-10003, reads 10004",
        PORTAL,
        roles=["Portal editor"],
        address="10001",
        contact=("Petra", "Hansen"),
        write=["10001", "10002", "10003"],
        read=["10004"],
        responsible_teams=["Support", "Service"],
        responsible_users=["sven"],
        types=ALL_TYPES,
    ),
]

# A 1×1 PNG, so the demo shows an image attachment.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
    "rkJggg=="
)


def _pressure_log():
    rows = ["time;pressure_bar"] + [f"08:{minute:02d};{250 - minute // 3}" for minute in range(60)]
    return SimpleUploadedFile("pressure-log.csv", "\n".join(rows).encode(), content_type="text/csv")


def _misprint_photo():
    return SimpleUploadedFile("misprint.png", PIXEL_PNG, content_type="image/png")


# Tickets: filed by `by` (a customer, or an agent taking a phone call), then the conversation.
# Steps: (hours after filing, action, who, text or status name[, files factory]).
TICKETS = [
    {
        "address": "10001",
        "subject": "Hydraulic press PR-400 loses pressure",
        "type": "Malfunction",
        "by": "petra",
        "team": "Service",
        "machine": "NW-1001",
        "priority": Priority.HIGH,
        "days_ago": 6,
        "description": (
            "Since Monday the press PR-400 loses about 20 bar per hour in operation. There is oil "
            "on the floor under the main cylinder. The log from the control panel is attached."
        ),
        "files": _pressure_log,
        "steps": [
            (
                2,
                "reply",
                "nina",
                "Thank you for the log. The main cylinder seal is the likely "
                "cause. Our technician can come on Thursday at 8:00 — does that suit you?",
            ),
            (
                3,
                "note",
                "nina",
                "Seal kit 4711-PR400 is not in stock; ordered from the "
                "manufacturer, delivery on Wednesday.",
            ),
            (5, "reply", "petra", "Thursday at 8:00 is fine. Please report at the gate."),
            (5.5, "status", "nina", "In progress"),
        ],
    },
    {
        "address": "10002",
        "subject": "Annual maintenance for the laser cutter LC-3015",
        "type": "Maintenance request",
        "by": "petra",
        "team": "Service",
        "machine": "NW-2001",
        "days_ago": 12,
        "description": (
            "The annual maintenance of our laser cutter is due next month. Please suggest two "
            "dates; the machine can be stopped on Fridays."
        ),
        "steps": [
            (
                20,
                "reply",
                "nina",
                "We can offer Friday the 14th or Friday the 21st, each from "
                "7:00. Which date do you prefer?",
            ),
            (20.1, "status", "nina", "Waiting for customer"),
        ],
    },
    {
        "address": "10003",
        "subject": "Spare filter cartridges for the CNC milling centre",
        "type": "Spare parts",
        "by": "petra",
        "team": "Support",
        "machine": "NW-3001",
        "priority": Priority.LOW,
        "days_ago": 20,
        "description": "We need 6 coolant filter cartridges for the VM-850. Please send an offer.",
        "steps": [
            (
                4,
                "reply",
                "sven",
                "Offer sent by e-mail: 6 filter cartridges FC-850, delivery within 3 working days.",
            ),
            (5, "status", "sven", "Solved"),
            # A reply to a solved (closed) ticket reopens it.
            (
                48,
                "reply",
                "petra",
                "Thank you. We would like 12 cartridges instead of 6 — please update the offer.",
            ),
            (50, "reply", "sven", "The updated offer for 12 cartridges is on its way."),
        ],
    },
    {
        "address": "10002",
        "subject": "Conveyor belt CB-12 makes a squeaking noise",
        "type": "Malfunction",
        "by": "petra",
        "team": "Support",
        "machine": "NW-2002",
        "days_ago": 30,
        "description": "The conveyor belt squeaks loudly at the drive roller since yesterday.",
        "steps": [
            (
                3,
                "reply",
                "sven",
                "Please check the belt tension and grease the roller bearings "
                "(grease nipples at both ends of the drive roller).",
            ),
            (
                24,
                "reply",
                "petra",
                "We re-tensioned the belt and greased the bearings; the noise is gone. Thank you!",
            ),
            (25, "status", "sven", "Closed"),
        ],
    },
    {
        "address": "10001",
        "subject": "Question about our maintenance contract",
        "type": "Question",
        "by": "petra",
        "recipient": "sven",
        "days_ago": 3,
        "description": "Does our maintenance contract also cover the welding cell in Bremen?",
        "steps": [
            (
                1,
                "reply",
                "sven",
                "Yes, it does since January. I will send you the list of all "
                "machines the contract covers.",
            ),
        ],
    },
    {
        "address": "10004",
        "subject": "Emergency stop triggered repeatedly on welding cell RW-6",
        "type": "Malfunction",
        "by": "tom",
        "team": "Support",
        "machine": "NW-4001",
        "contact": ("Ole", "Brandt"),
        "priority": Priority.URGENT,
        "days_ago": 1,
        "description": (
            "Phone call from Ole Brandt (plant manager, Bremen): the light curtain triggers the "
            "emergency stop several times per shift. Filed on the customer's behalf."
        ),
        "steps": [
            (
                1,
                "note",
                "tom",
                "Probably a dirty light curtain again, as last year. Ask for a "
                "photo of the receiver before sending anyone.",
            ),
            (2, "reply", "tom", "We have scheduled a remote diagnosis for tomorrow at 10:00."),
        ],
    },
    {
        "address": "10010",
        "subject": "Labelling machine misprints batch codes",
        "type": "Malfunction",
        "by": "walter",
        "team": "Support",
        "machine": "AB-1001",
        "priority": Priority.HIGH,
        "days_ago": 4,
        "description": "Since this morning every third label has an unreadable batch code.",
        "steps": [
            (
                2,
                "reply",
                "sven",
                "Please send a photo of a misprinted label and the printer's "
                "firmware version (menu Info > System).",
            ),
            (6, "reply", "walter", "Photo attached; the firmware is 3.2.1.", _misprint_photo),
            (8, "status", "sven", "In progress"),
        ],
    },
    {
        "address": "10011",
        "subject": "Maintenance visit for the shrink wrapper SW-900",
        "type": "Maintenance request",
        "by": "sven",
        "team": "Service",
        "machine": "AB-2001",
        "contact": ("Franz", "Moser"),
        "days_ago": 9,
        "description": (
            "Franz Moser asked by phone for the half-yearly maintenance visit for the shrink "
            "wrapper in Rosenheim. Filed on the customer's behalf."
        ),
        "steps": [
            (
                3,
                "reply",
                "nina",
                "Our technician can come on Tuesday between 8:00 and 12:00. Please confirm.",
            ),
            (3.1, "status", "nina", "Waiting for customer"),
        ],
    },
    {
        "address": "10010",
        "subject": "How do I reset an operator password?",
        "type": "Question",
        "by": "walter",
        "team": "Support",
        "priority": Priority.LOW,
        "days_ago": 15,
        "description": "A new operator forgot the password for the labelling machine's panel.",
        "steps": [
            (
                1,
                "reply",
                "sven",
                "In Settings > Users select the operator and choose “Reset "
                "password”; the supervisor PIN is required.",
            ),
            (2, "reply", "walter", "That worked, thank you."),
            (2.5, "status", "sven", "Solved"),
        ],
    },
    {
        "address": "10020",
        "subject": "Temperature alarm on cooling unit CU-75",
        "type": "Malfunction",
        "by": "stefan",
        "team": "Service",
        "machine": "RF-1001",
        "priority": Priority.URGENT,
        "days_ago": 2,
        "description": "The cooling unit raises a temperature alarm: 11 °C instead of 4 °C.",
        "steps": [
            (1, "reply", "nina", "A technician is on the way and will be with you within 4 hours."),
            (6, "note", "nina", "Condenser fan replaced under warranty: no invoice."),
            (7, "reply", "nina", "The condenser fan has been replaced; the unit holds 4 °C again."),
            # The restricted customer may set "Solved".
            (8, "status", "stefan", "Solved"),
        ],
    },
    {
        "address": "10021",
        "subject": "Film holder of the pallet wrapper broken",
        "type": "Spare parts",
        "by": "stefan",
        "team": "Support",
        "machine": "RF-2001",
        "days_ago": 5,
        "description": "The stretch film holder broke off. Please send a replacement.",
        "steps": [
            (3, "reply", "tom", "The holder (part no. PW2-114) ships today."),
            (3.1, "status", "tom", "In progress"),
        ],
    },
    {
        "address": "10020",
        "subject": "Training for new operators of the filling line",
        "type": "Question",
        "by": "stefan",
        "recipient": "nina",
        "machine": "RF-1002",
        "days_ago": 0.1,
        "description": "Three new operators start next month. Do you offer a one-day training?",
        "steps": [],
    },
]


# ---------------------------------------------------------------------------------------------
# Seeding. Everything below runs inside one transaction (see Command.handle).


class Seeder:
    def __init__(self):
        self.addresses = {}
        self.users = {}
        self.created_users = set()
        self.tickets_created = 0
        self.skipped = []

    def run(self):
        self.teams = {
            name: Team.objects.get_or_create(name=name, defaults={"email": email})[0]
            for name, email in TEAMS
        }
        self.statuses = {
            name: self._status(name, order, closed) for name, order, closed in STATUSES
        }
        self.types = {
            name: TicketType.objects.get_or_create(
                name=name, defaults={"order": order, "description": description}
            )[0]
            for name, order, description in TICKET_TYPES
        }
        for customer in CUSTOMERS:
            self._customer(customer)
        for account in ACCOUNTS:
            self._account(account)
        # Oldest first, so ticket numbers grow with the filing dates.
        for spec in sorted(TICKETS, key=lambda spec: -spec["days_ago"]):
            # An account an administrator has changed since may no longer be allowed to file
            # or answer this ticket: skip it (with the policy's reason) rather than fail.
            try:
                with transaction.atomic():
                    self._ticket(spec)
            except (PermissionDenied, ValidationError) as exc:
                self.skipped.append((spec["subject"], exc))

    def _status(self, name, order, closed):
        status, _created = TicketStatus.objects.get_or_create(
            name=name, defaults={"order": order, "is_closed": closed}
        )
        return status

    def _customer(self, spec):
        hq = self._address(spec, parent=None)
        for site in spec.get("sites", []):
            site = {
                "name": spec["name"],
                "phone": spec["phone"],
                "email": spec["email"],
                **site,
            }
            self._address(site, parent=hq)

    def _address(self, spec, *, parent):
        address, _created = Address.objects.get_or_create(
            number=spec["number"],
            defaults={
                "name": spec["name"],
                "name_2": spec.get("name_2", ""),
                "street": spec["street"],
                "postal_code": spec["postal_code"],
                "city": spec["city"],
                "country": "DE",
                "phone": spec.get("phone", ""),
                "email": spec.get("email", ""),
                "parent": parent,
            },
        )
        self.addresses[address.number] = address
        for salutation, first, last, function, email, main in spec["contacts"]:
            ContactPerson.objects.get_or_create(
                address=address,
                first_name=first,
                last_name=last,
                defaults={
                    "salutation": salutation,
                    "function": function,
                    "email": email,
                    "phone": spec.get("phone", ""),
                    # One main contact per address, even if an administrator chose another.
                    "is_main": main
                    and not ContactPerson.objects.filter(address=address, is_main=True).exists(),
                },
            )
        for number, name, manufacturer, model, serial, year in spec["machines"]:
            Machine.objects.get_or_create(
                number=number,
                defaults={
                    "address": address,
                    "name": name,
                    "manufacturer": manufacturer,
                    "model": model,
                    "serial_number": serial,
                    "installed_on": datetime.date(year, 4, 1),
                },
            )
        return address

    def _account(self, account):
        user = User.objects.filter(email__iexact=account.email).first()
        if user is not None:
            self.users[account.key] = user
            return
        user = User(
            email=account.email,
            first_name=account.first_name,
            last_name=account.last_name,
            is_staff=account.superuser,
            is_superuser=account.superuser,
            is_external=account.external,
            restrict_status=bool(account.allowed_statuses),
        )
        user.set_password(DEMO_PASSWORD)
        if account.external:
            user.address = self.addresses[account.address]
            first, last = account.contact
            user.contact_person = ContactPerson.objects.get(
                address=user.address, first_name=first, last_name=last
            )
        user.full_clean()
        user.save()
        user.groups.add(*Group.objects.filter(name__in=account.roles))
        for team in account.teams:
            self.teams[team].members.add(user)
        user.read_addresses.add(*[self.addresses[number] for number in account.read])
        user.write_addresses.add(*[self.addresses[number] for number in account.write])
        user.responsible_teams.add(*[self.teams[name] for name in account.responsible_teams])
        user.responsible_users.add(*[self.users[key] for key in account.responsible_users])
        user.ticket_types.add(*[self.types[name] for name in account.types])
        user.allowed_statuses.add(*[self.statuses[name] for name in account.allowed_statuses])
        self.users[account.key] = user
        self.created_users.add(account.key)

    def _user(self, key):
        """The account read anew, as on a new request: grants load once per user object."""
        return User.objects.get(pk=self.users[key].pk)

    def _ticket(self, spec):
        address = self.addresses[spec["address"]]
        if Ticket.objects.filter(address=address, subject=spec["subject"]).exists():
            return
        now = timezone.now()
        filed_at = now - datetime.timedelta(days=spec["days_ago"])
        contact = None
        if spec.get("contact"):
            first, last = spec["contact"]
            contact = ContactPerson.objects.get(address=address, first_name=first, last_name=last)
        since = timezone.now()
        ticket = services.ticket_create(
            actor=self._user(spec["by"]),
            address=address,
            ticket_type=self.types[spec["type"]],
            subject=spec["subject"],
            description=spec["description"],
            team=self.teams[spec["team"]] if spec.get("team") else None,
            recipient=self._user(spec["recipient"]) if spec.get("recipient") else None,
            machine=Machine.objects.get(number=spec["machine"]) if spec.get("machine") else None,
            contact_person=contact,
            priority=spec.get("priority", Priority.NORMAL),
            files=[spec["files"]()] if spec.get("files") else (),
        )
        Ticket.objects.filter(pk=ticket.pk).update(created_at=filed_at)
        _date_back(ticket, since=since, when=filed_at)
        for hours, action, who, text, *files in spec["steps"]:
            since = timezone.now()
            actor = self._user(who)
            uploads = [make() for make in files]
            if action == "reply":
                services.ticket_reply(actor=actor, ticket=ticket, body=text, files=uploads)
            elif action == "note":
                services.ticket_add_internal_note(
                    actor=actor, ticket=ticket, body=text, files=uploads
                )
            else:
                services.ticket_set_status(actor=actor, ticket=ticket, status=self.statuses[text])
            when = min(filed_at + datetime.timedelta(hours=hours), now)
            _date_back(ticket, since=since, when=when)
        self.tickets_created += 1


def _date_back(ticket, *, since, when):
    """Move what the last service call wrote (everything stamped at or after `since`) to
    `when`, so the demo's conversations spread over the past weeks."""
    Message.objects.filter(ticket=ticket, created_at__gte=since).update(created_at=when)
    # A queryset update bypasses `Message.save`: moved messages may change which one is latest.
    Ticket.objects.filter(pk=ticket.pk).refresh_awaiting_customer()
    Attachment.objects.filter(message__ticket=ticket, created_at__gte=since).update(created_at=when)
    TicketEvent.objects.filter(ticket=ticket, created_at__gte=since).update(created_at=when)
    Ticket.objects.filter(pk=ticket.pk, updated_at__gte=since).update(updated_at=when)
    Ticket.objects.filter(pk=ticket.pk, closed_at__gte=since).update(closed_at=when)


# ---------------------------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Create demo customers, sites, machines, teams, accounts for every access case and "
        "tickets with conversations. Safe to run again: only what is missing is created."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help=(
                "Seed even with DEBUG off. The demo accounts, a superuser among them, share a "
                "published password: never on a production site."
            ),
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a published password, a superuser among them, "
                "so it runs only with DEBUG on. Pass --force to seed a demo site anyway."
            )
        seeder = Seeder()
        with transaction.atomic():
            seeder.run()
        self._report(seeder)

    def _report(self, seeder):
        demo_addresses = len(seeder.addresses)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {demo_addresses} addresses, {len(TICKETS)} tickets "
                f"({seeder.tickets_created} new), {len(ACCOUNTS)} accounts "
                f"({len(seeder.created_users)} new)."
            )
        )
        for subject, exc in seeder.skipped:
            self.stdout.write(self.style.WARNING(f"Skipped ticket “{subject}”: {exc}"))
        rows = [("E-mail", "Password", "Role / case", "Works at")]
        for account in ACCOUNTS:
            user = seeder.users[account.key]
            # Passwords are only set on creation; say so when someone has changed one since.
            # (The hasher's check_password, not the user's: that one may re-save the hash.)
            has_demo_password = check_password(DEMO_PASSWORD, user.password)
            password = DEMO_PASSWORD if has_demo_password else "(changed since)"
            if not user.is_active:
                password += " (inactive)"
            rows.append((user.email, password, account.case, account.works_at))
        widths = [max(len(row[column]) for row in rows) for column in range(4)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        self.stdout.write("")
        for line in lines:
            self.stdout.write(line.rstrip())
        self.stdout.write("")
        self.stdout.write("Sign in at /accounts/login/ with the e-mail address and the password.")

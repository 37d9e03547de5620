"""`manage.py seed_bench --tickets N`: a large, deterministic data set for the benchmark (bench/).

What it builds (every size is an option; DESIGN.md's domain, issue 5's shape):

* customers: headquarters with 0–8 sites each (`Address.parent`), 10,000 addresses in all,
  with 1–3 contact persons (one main) and 0–5 machines per address;
* 5 teams and 50 support staff with the "Support agent" role, spread over the teams;
* 2,000 external users ("Portal user", a quarter "Portal editor"), each with 1–8 addresses of
  their customer in the read or write set, 1–2 responsible teams, sometimes a responsible agent,
  allowed ticket types and now and then a restricted status list;
* N tickets spread over several years (`--years`) up to `--until`, numbered in filing order,
  at addresses drawn with a heavy-tailed weight (a few big customers file most tickets), with
  3 messages each (the description, then replies from both sides; about one agent message in
  five is an internal note) and their history ("created", status changes, "closed"). Tickets
  are open with a probability that falls with their age: about 14 % are open overall, nearly
  all of them recent, as in a real help desk.

The first external user (`CUSTOMER_EMAIL`) is the benchmark's customer: a Portal editor with
all 8 sites of the biggest customer in the write set. `AGENT_EMAIL` is the benchmark's support
agent. Every account shares `BENCH_PASSWORD` (hashed once).

Deterministic: the same `--seed`, sizes and `--until` give the same rows (ids and ticket numbers
come from the database's sequences). Fast on PostgreSQL: tickets, messages and events are
streamed with COPY (ids and numbers drawn from their sequences in bulk, so tickets created
later through the ORM never collide); from 50,000 tickets on (`--indexes`) the secondary
indexes and foreign keys of those three tables are dropped for the load and re-created (and so
re-validated) at the end, all in one transaction, and the search documents' GIN indexes are
built once after the documents are rebuilt; then VACUUM ANALYZE. Elsewhere (SQLite, for
tests) it falls back to bulk_create. Either way `Message.save` is bypassed, so each ticket's
`awaiting_customer` flag is computed while its conversation is generated.

It refuses to run on a database that already has tickets unless `--append` is given; with
`--append` the bench population (found by `AGENT_EMAIL`) is reused and only tickets are added.
Never on a production site: the accounts share a published password.
"""

import math
import random
import time
from bisect import bisect_right
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import Team, User
from addresses.models import Address, ContactPerson, Machine
from tickets.models import Message, Priority, Ticket, TicketEvent, TicketStatus, TicketType
from tickets.numbering import next_ticket_numbers

BENCH_PASSWORD = "bench-portal-2026"  # noqa: S105 - published on purpose: benchmark data only
BENCH_DOMAIN = "bench.example"
CUSTOMER_EMAIL = f"portal-0001@{BENCH_DOMAIN}"
AGENT_EMAIL = f"agent-01@{BENCH_DOMAIN}"
ADDRESS_PREFIX = "B"
MACHINE_PREFIX = "BM-"

BATCH = 20_000  # tickets per COPY / bulk_create round
PERSONA_SITES = 8

# ---------------------------------------------------------------------------------------------
# Vocabulary. Words the benchmark searches for ("hydraulic", "leak") occur in a few per cent of
# the subjects and messages, like a real search term.

COMPANY_WORDS = (
    "Nord",
    "Süd",
    "West",
    "Ost",
    "Alpen",
    "Rhein",
    "Elbe",
    "Main",
    "Donau",
    "Weser",
    "Hansa",
    "Berg",
    "Tal",
    "Stahl",
    "Blau",
    "Grün",
    "Fels",
    "Stern",
    "Brücken",
    "Mühlen",
    "Linden",
    "Eichen",
    "Falken",
    "Adler",
    "Kraft",
    "Licht",
    "Werk",
    "Feld",
    "Hafen",
    "Wald",
)
COMPANY_KINDS = (
    "Maschinenbau",
    "Verpackung",
    "Foods",
    "Logistik",
    "Kunststoff",
    "Metallbau",
    "Druck",
    "Papier",
    "Textil",
    "Chemie",
    "Elektronik",
    "Automotive",
    "Pharma",
    "Holz",
    "Glas",
    "Getränke",
    "Brauerei",
    "Gießerei",
    "Recycling",
    "Baustoffe",
)
LEGAL_FORMS = ("GmbH", "AG", "KG", "GmbH & Co. KG", "SE", "e.K.")
CITIES = (
    ("Hamburg", "20457", "DE"),
    ("Bremen", "28217", "DE"),
    ("Berlin", "10115", "DE"),
    ("Köln", "50668", "DE"),
    ("München", "80802", "DE"),
    ("Stuttgart", "70173", "DE"),
    ("Leipzig", "04109", "DE"),
    ("Dresden", "01067", "DE"),
    ("Hannover", "30159", "DE"),
    ("Nürnberg", "90402", "DE"),
    ("Dortmund", "44135", "DE"),
    ("Kiel", "24103", "DE"),
    ("Rostock", "18055", "DE"),
    ("Freiburg", "79098", "DE"),
    ("Mannheim", "68159", "DE"),
    ("Wien", "1010", "AT"),
    ("Linz", "4020", "AT"),
    ("Graz", "8010", "AT"),
    ("Zürich", "8001", "CH"),
    ("Basel", "4051", "CH"),
    ("Rotterdam", "3011", "NL"),
    ("Eindhoven", "5611", "NL"),
)
STREETS = (
    "Hafenstraße",
    "Industriestraße",
    "Gewerbering",
    "Am Werk",
    "Kanalstraße",
    "Bahnhofstraße",
    "Lindenallee",
    "Hauptstraße",
    "Mühlenweg",
    "Schillerstraße",
    "Werftstraße",
    "Fabrikstraße",
    "Am Hafen",
    "Ringstraße",
)
FIRST_NAMES = (
    "Anna",
    "Petra",
    "Mia",
    "Rosa",
    "Lena",
    "Sophie",
    "Julia",
    "Eva",
    "Laura",
    "Nina",
    "Jonas",
    "Lars",
    "Ole",
    "Felix",
    "Paul",
    "Max",
    "Jan",
    "Stefan",
    "Walter",
    "Franz",
    "Tobias",
    "Lukas",
    "Sven",
    "Tom",
    "Karin",
    "Ute",
    "Heike",
    "Jörg",
    "Uwe",
    "Klaus",
)
LAST_NAMES = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Wolf",
    "Schröder",
    "Neumann",
    "Braun",
    "Zimmermann",
    "Hansen",
    "Jensen",
    "Petersen",
    "Huber",
    "Moser",
    "Leitner",
    "Brandt",
    "Krause",
    "Berger",
    "Roth",
    "König",
    "Lang",
    "Vogel",
)
FUNCTIONS = (
    "Plant manager",
    "Head of maintenance",
    "Shift supervisor",
    "Purchasing",
    "Quality assurance",
    "Technical director",
    "Warehouse manager",
)
MACHINES = (
    ("Hydraulic press", "Hydrotec", "PR"),
    ("Laser cutter", "Lumatec", "LC"),
    ("Conveyor belt", "Fördertech", "CB"),
    ("CNC milling centre", "Fräsmaster", "VM"),
    ("Robot welding cell", "Weldtronic", "RW"),
    ("Labelling machine", "Etikett-Systeme", "LX"),
    ("Carton erector", "Packwerk", "CE"),
    ("Shrink wrapper", "Packwerk", "SW"),
    ("Cooling unit", "Kältetechnik Nord", "CU"),
    ("Filling line", "Abfülltechnik", "FL"),
    ("Pallet wrapper", "Packwerk", "PW"),
    ("Compressor station", "Aerotech", "AC"),
    ("Injection moulding machine", "Plastomat", "IM"),
    ("Industrial oven", "Thermowerk", "IO"),
)
COMPONENTS = (
    "hydraulic pump",
    "main cylinder",
    "drive roller",
    "light curtain",
    "control panel",
    "cooling circuit",
    "spindle",
    "print head",
    "film holder",
    "conveyor motor",
    "safety door",
    "compressor",
    "heating element",
    "sensor",
    "gearbox",
    "PLC",
    "touch screen",
    "vacuum pump",
    "filter cartridge",
    "emergency stop",
)
PROBLEMS = (
    "loses pressure",
    "makes a squeaking noise",
    "shows error E{code}",
    "does not start",
    "stops intermittently",
    "overheats",
    "has an oil leak",
    "needs replacement",
    "triggers the emergency stop",
    "is out of calibration",
    "vibrates strongly",
    "reports a sensor fault",
)
REQUESTS = (
    "Annual maintenance for the {machine}",
    "Spare parts for the {machine}",
    "Offer for a service contract",
    "Question about invoice {code}",
    "Training for new operators",
    "Inspection of the {machine} before the audit",
    "Software update for the {machine}",
)
DESCRIPTIONS = (
    "Since this morning the {component} {problem}. Production is {impact}. We already "
    "restarted the machine and checked the obvious things.",
    "Our operators report that the {component} {problem} several times per shift. "
    "The log from the control panel is available if you need it.",
    "Please send a technician: the {component} {problem} and the machine is {impact}.",
    "We would like to schedule the maintenance visit. The machine can be stopped on Fridays; "
    "please suggest two dates.",
    "Please send an offer for {count} {component} parts, delivery to the site address.",
)
AGENT_REPLIES = (
    "Thank you for the details. A technician can come on {day} at {hour}:00; does that suit you?",
    "Please check the {component} for visible damage and send us a photo of the type plate.",
    "We have ordered the parts; delivery is expected within {count} working days.",
    "The {component} has been replaced and the machine was tested for two hours without faults.",
    "Could you tell us the firmware version (menu Info > System) and the exact error code?",
    "Our offer is on its way by e-mail; please confirm it here and we will schedule the work.",
)
INTERNAL_NOTES = (
    "Part {code} is not in stock; ordered from the manufacturer.",
    "Same fault as last year on this machine: check the {component} first.",
    "Covered by the maintenance contract: no invoice.",
    "Customer called, asked for an update; promised an answer by tomorrow.",
)
CUSTOMER_REPLIES = (
    "{day} at {hour}:00 is fine. Please report at the gate.",
    "Photo attached; the error code is E{code}.",
    "Thank you, the machine runs again.",
    "Unfortunately the {component} still {problem}.",
    "Please go ahead with the offer.",
)
IMPACTS = ("stopped", "running at half speed", "not affected yet", "down on one line")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

TEAM_NAMES = ("Support", "Service", "Spare parts", "Field service North", "Field service South")
TEAM_EMAILS = {name: f"{name.lower().replace(' ', '-')}@{BENCH_DOMAIN}" for name in TEAM_NAMES}
# Name, order, description; "Question" and the statuses come from the tickets migrations.
TICKET_TYPES = (
    ("Malfunction", 20, 40),
    ("Maintenance request", 30, 25),
    ("Spare parts", 40, 20),
    ("Question", 10, 15),
)
OPEN_STATUSES = (("New", 10, 35), ("In progress", 20, 45), ("Waiting for customer", 30, 20))
CLOSED_STATUSES = (("Solved", 40, 30), ("Closed", 50, 70))
PRIORITIES = (
    (Priority.LOW.value, 20),
    (Priority.NORMAL.value, 55),
    (Priority.HIGH.value, 18),
    (Priority.URGENT.value, 7),
)
SITES_PER_USER = (1, 2, 3, 4, 5, 6, 7, 8)
SITES_PER_USER_WEIGHTS = (30, 20, 15, 10, 8, 7, 5, 5)

HOUR = 3600.0
DAY = 24 * HOUR

# ---------------------------------------------------------------------------------------------


@contextmanager
def _explicit(model, *names):
    """Switch off auto_now/auto_now_add on `names` so bulk_create keeps the values we give."""
    fields = [model._meta.get_field(name) for name in names]
    saved = [(f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, (now, now_add) in zip(fields, saved, strict=True):
            f.auto_now, f.auto_now_add = now, now_add


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


class Timer:
    def __init__(self):
        self.start = time.perf_counter()
        self.phases = []

    def lap(self, name):
        now = time.perf_counter()
        last = self.phases[-1][2] if self.phases else self.start
        self.phases.append((name, now - last, now))
        return now - last

    @property
    def total(self):
        return time.perf_counter() - self.start


# ---------------------------------------------------------------------------------------------
# The population: addresses, contacts, machines, teams, staff, external users.


class Population:
    """Creates the bench population in bulk. Everything is drawn from `rng` in a fixed order."""

    def __init__(self, *, rng, addresses, external_users, staff, password_hash):
        self.rng = rng
        self.n_addresses = addresses
        self.n_users = external_users
        self.n_staff = staff
        self.password_hash = password_hash
        self.counts = {}

    def create(self, *, teams, types, statuses):
        customers = self._customers()
        self._addresses(customers)
        contacts_by_address = self._contacts()
        self._machines()
        agents = self._staff(teams)
        self._external_users(customers, contacts_by_address, teams, agents, types, statuses)

    # Addresses: customer `c` is a list of address indices, its headquarters first.
    def _customers(self):
        rng, total = self.rng, self.n_addresses
        customers, index = [], 0
        while index < total:
            if not customers:
                size = 1 + PERSONA_SITES  # the benchmark customer: headquarters and 8 sites
            else:
                size = rng.choices(range(1, 10), weights=(20, 15, 15, 12, 10, 8, 8, 6, 6))[0]
            size = min(size, total - index)
            customers.append(list(range(index, index + size)))
            index += size
        self.customers = customers
        return customers

    def _addresses(self, customers):
        rng = self.rng
        rows = [None] * self.n_addresses
        for customer in customers:
            company = (
                f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()} "
                f"{rng.choice(COMPANY_KINDS)} {rng.choice(LEGAL_FORMS)}"
            )
            domain = f"c{customer[0] + 1:05d}.{BENCH_DOMAIN}"
            for position, index in enumerate(customer):
                city, postal_code, country = rng.choice(CITIES)
                rows[index] = {
                    "number": f"{ADDRESS_PREFIX}{index + 1:06d}",
                    "name": company,
                    "name_2": "" if position == 0 else f"Werk {city}",
                    "street": f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
                    "postal_code": postal_code,
                    "city": city,
                    "country": country,
                    "phone": f"+49 {rng.randint(30, 999)} {rng.randint(1000, 99999)}",
                    "email": f"info@{domain}" if position == 0 else f"site{position}@{domain}",
                }
        heads = [customer[0] for customer in customers]
        objs = Address.objects.bulk_create(
            [Address(**rows[index]) for index in heads], batch_size=2000
        )
        pks = {}
        for index, obj in zip(heads, objs, strict=True):
            pks[index] = obj.pk
        sites = []
        for customer in customers:
            for index in customer[1:]:
                sites.append((index, Address(parent_id=pks[customer[0]], **rows[index])))
        objs = Address.objects.bulk_create([obj for _, obj in sites], batch_size=2000)
        for (index, _), obj in zip(sites, objs, strict=True):
            pks[index] = obj.pk
        self.address_pks = [pks[index] for index in range(self.n_addresses)]
        self.counts["addresses"] = self.n_addresses
        self.counts["customers"] = len(customers)

    def _contacts(self):
        rng = self.rng
        objs, owners = [], []
        for index, address_pk in enumerate(self.address_pks):
            for position in range(rng.choice((1, 1, 2, 2, 3))):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                objs.append(
                    ContactPerson(
                        address_id=address_pk,
                        salutation=rng.choice(("mr", "ms", "")),
                        first_name=first,
                        last_name=last,
                        function=rng.choice(FUNCTIONS),
                        email=f"{first.lower()}.{last.lower()}.{index + 1}@{BENCH_DOMAIN}",
                        phone=f"+49 {rng.randint(30, 999)} {rng.randint(1000, 99999)}",
                        is_main=position == 0,
                    )
                )
                owners.append(index)
        objs = ContactPerson.objects.bulk_create(objs, batch_size=5000)
        by_address = {}
        for index, obj in zip(owners, objs, strict=True):
            by_address.setdefault(index, []).append(obj.pk)
        self.counts["contact persons"] = len(objs)
        return by_address

    def _machines(self):
        rng, objs, serial = self.rng, [], 0
        for address_pk in self.address_pks:
            for _ in range(rng.choice((0, 1, 2, 2, 3, 4, 5))):
                serial += 1
                name, manufacturer, code = rng.choice(MACHINES)
                model = f"{code}-{rng.randint(1, 99) * 10}"
                objs.append(
                    Machine(
                        address_id=address_pk,
                        number=f"{MACHINE_PREFIX}{serial:06d}",
                        name=f"{name} {model}",
                        manufacturer=manufacturer,
                        model=model,
                        serial_number=f"{code}{rng.randint(10000, 99999)}-{serial}",
                        installed_on=datetime(
                            rng.randint(2005, 2024), rng.randint(1, 12), 1, tzinfo=UTC
                        ).date(),
                    )
                )
        Machine.objects.bulk_create(objs, batch_size=5000)
        self.counts["machines"] = len(objs)

    def _staff(self, teams):
        rng = self.rng
        agents = User.objects.bulk_create(
            [
                User(
                    email=f"agent-{i + 1:02d}@{BENCH_DOMAIN}",
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                    password=self.password_hash,
                    language=rng.choice(("en", "de")),
                )
                for i in range(self.n_staff)
            ],
            batch_size=1000,
        )
        role = Group.objects.get(name="Support agent")
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=agent.pk, group_id=role.pk) for agent in agents]
        )
        members = []
        for i, agent in enumerate(agents):
            team_indices = {i % len(teams)}
            if i % 7 == 6:  # some agents work in two teams
                team_indices.add((i + 1) % len(teams))
            members += [
                Team.members.through(team_id=teams[t].pk, user_id=agent.pk)
                for t in sorted(team_indices)
            ]
        Team.members.through.objects.bulk_create(members, ignore_conflicts=True)
        self.counts["staff"] = len(agents)
        return agents

    def _external_users(self, customers, contacts_by_address, teams, agents, types, statuses):
        rng = self.rng
        portal_user = Group.objects.get(name="Portal user")
        portal_editor = Group.objects.get(name="Portal editor")
        all_types = list(types.values())
        closing = [statuses[name] for name, _order, _weight in CLOSED_STATUSES]
        specs, users = [], []
        for i in range(self.n_users):
            if i == 0:
                customer = customers[0]
                sites = customer[1:] or customer[:1]
                written = set(sites)
            else:
                others = customers[1:] or customers
                customer = others[rng.randrange(len(others))]
                wanted = rng.choices(SITES_PER_USER, weights=SITES_PER_USER_WEIGHTS)[0]
                sites = rng.sample(customer, min(wanted, len(customer)))
                written = {index for index in sites if rng.random() < 0.6}
            home = customer[0]
            home_contacts = contacts_by_address.get(home, [])
            contact = home_contacts[0] if home_contacts and (i == 0 or rng.random() < 0.5) else None
            editor = i == 0 or rng.random() < 0.25
            if i == 0:
                user_teams = list(teams)
                user_agents = agents[:1]
                user_types = all_types
                allowed = []
            else:
                user_teams = rng.sample(teams, min(len(teams), rng.choice((1, 1, 2))))
                user_agents = [rng.choice(agents)] if agents and rng.random() < 0.3 else []
                user_types = (
                    all_types
                    if rng.random() < 0.7
                    else rng.sample(all_types, max(1, len(all_types) - 1))
                )
                allowed = closing if rng.random() < 0.2 else []
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            users.append(
                User(
                    email=f"portal-{i + 1:04d}@{BENCH_DOMAIN}",
                    first_name=first,
                    last_name=last,
                    password=self.password_hash,
                    is_external=True,
                    address_id=self.address_pks[home],
                    contact_person_id=contact,
                    restrict_status=bool(allowed),
                    language=rng.choice(("en", "de")),
                )
            )
            specs.append((sites, written, editor, user_teams, user_agents, user_types, allowed))
        users = User.objects.bulk_create(users, batch_size=1000)

        through = User.read_addresses.through, User.write_addresses.through
        groups, reads, writes, resp_teams, resp_users, user_types_rows, allowed_rows = (
            [] for _ in range(7)
        )
        for user, (sites, written, editor, t, a, ty, allowed) in zip(users, specs, strict=True):
            role = portal_editor if editor else portal_user
            groups.append(User.groups.through(user_id=user.pk, group_id=role.pk))
            for index in sites:
                model = through[1] if index in written else through[0]
                row = model(user_id=user.pk, address_id=self.address_pks[index])
                (writes if index in written else reads).append(row)
            resp_teams += [
                User.responsible_teams.through(user_id=user.pk, team_id=team.pk) for team in t
            ]
            resp_users += [
                User.responsible_users.through(from_user_id=user.pk, to_user_id=agent.pk)
                for agent in a
            ]
            user_types_rows += [
                User.ticket_types.through(user_id=user.pk, tickettype_id=ticket_type.pk)
                for ticket_type in ty
            ]
            allowed_rows += [
                User.allowed_statuses.through(user_id=user.pk, ticketstatus_id=status.pk)
                for status in allowed
            ]
        for rows in (groups, reads, writes, resp_teams, resp_users, user_types_rows, allowed_rows):
            if rows:
                type(rows[0]).objects.bulk_create(rows, batch_size=5000)
        self.counts["external users"] = len(users)
        self.counts["read/write grants"] = len(reads) + len(writes)


# ---------------------------------------------------------------------------------------------
# What ticket generation needs, read back from the database (so --append works the same way).


class Context:
    def __init__(self, *, rng, types, statuses):
        addresses = list(
            Address.objects.filter(number__startswith=ADDRESS_PREFIX)
            .order_by("number")
            .values_list("pk", flat=True)
        )
        if not addresses:
            raise CommandError("No bench addresses found.")
        self.addresses = addresses
        # Heavy-tailed ticket weights; the biggest go to the first customer (the benchmark's).
        weights = sorted((rng.lognormvariate(0, 1.0) for _ in addresses), reverse=True)
        self.cum_weights = list(accumulate(weights))

        bench_users = User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}")
        self.agents = list(
            bench_users.filter(is_external=False).order_by("email").values_list("pk", flat=True)
        )
        if not self.agents:
            raise CommandError("No bench support staff found.")
        teams = Team.objects.filter(name__in=TEAM_NAMES).order_by("name")
        self.teams = list(teams.values_list("pk", flat=True))
        self.team_agents = {pk: [] for pk in self.teams}
        for team_id, user_id in Team.members.through.objects.filter(
            team__in=self.teams, user_id__in=self.agents
        ).values_list("team_id", "user_id"):
            self.team_agents[team_id].append(user_id)
        for members in self.team_agents.values():
            members.sort()

        externals = bench_users.filter(is_external=True)
        self.writers = {}
        for user_id, address_id in (
            User.write_addresses.through.objects.filter(user__in=externals)
            .order_by("address_id", "user_id")
            .values_list("user_id", "address_id")
        ):
            self.writers.setdefault(address_id, []).append(user_id)
        self.user_teams = {}
        for user_id, team_id in (
            User.responsible_teams.through.objects.filter(user__in=externals, team__in=self.teams)
            .order_by("user_id", "team_id")
            .values_list("user_id", "team_id")
        ):
            self.user_teams.setdefault(user_id, []).append(team_id)
        self.machines = {}
        for address_id, machine_id, name in (
            Machine.objects.filter(address_id__in=addresses)
            .order_by("address_id", "pk")
            .values_list("address_id", "pk", "name")
        ):
            self.machines.setdefault(address_id, []).append((machine_id, name))
        self.main_contact = dict(
            ContactPerson.objects.filter(address_id__in=addresses, is_main=True).values_list(
                "address_id", "pk"
            )
        )
        self.types = [(types[name].pk, weight) for name, _order, weight in TICKET_TYPES]
        self.open_statuses = [(statuses[n].pk, n, w) for n, _o, w in OPEN_STATUSES]
        self.closed_statuses = [(statuses[n].pk, n, w) for n, _o, w in CLOSED_STATUSES]
        self.default_status_name = TicketStatus.objects.default().name


class TicketGenerator:
    """Tickets in filing order, as plain tuples: fast to stream with COPY or to turn into
    model instances. Messages and events name their ticket by its position in the batch."""

    TICKET_FIELDS = (
        "subject",
        "type_id",
        "status_id",
        "priority",
        "address_id",
        "machine_id",
        "contact_person_id",
        "created_by_id",
        "responsible_team_id",
        "responsible_user_id",
        "created_at",
        "updated_at",
        "closed_at",
        "awaiting_customer",
    )
    MESSAGE_FIELDS = ("ticket_id", "author_id", "kind", "body", "created_at")
    EVENT_FIELDS = ("ticket_id", "actor_id", "kind", "old_value", "new_value", "created_at")

    def __init__(self, *, rng, context, total, start, until, messages_per_ticket):
        self.rng, self.ctx, self.total = rng, context, total
        self.start, self.until = start, until
        self.span = (until - start).total_seconds()
        self.messages_per_ticket = messages_per_ticket
        self.subjects = self._subjects()
        self.bodies = {
            "description": self._texts(DESCRIPTIONS, 400),
            "agent": self._texts(AGENT_REPLIES, 300),
            "note": self._texts(INTERNAL_NOTES, 200),
            "customer": self._texts(CUSTOMER_REPLIES, 300),
        }
        ctx = context
        self.type_values, type_weights = zip(*ctx.types, strict=True)
        self.type_cum = list(accumulate(type_weights))
        self.priority_values, priority_weights = zip(*PRIORITIES, strict=True)
        self.priority_cum = list(accumulate(priority_weights))
        self.open_cum = list(accumulate(w for _pk, _n, w in ctx.open_statuses))
        self.closed_cum = list(accumulate(w for _pk, _n, w in ctx.closed_statuses))

    def _fill(self, template):
        rng = self.rng
        return template.format(
            component=rng.choice(COMPONENTS),
            problem=rng.choice(PROBLEMS).format(code=rng.randint(100, 999)),
            machine=rng.choice(MACHINES)[0].lower(),
            code=rng.randint(1000, 9999),
            impact=rng.choice(IMPACTS),
            count=rng.randint(2, 12),
            day=rng.choice(DAYS),
            hour=rng.randint(7, 15),
        )

    def _subjects(self):
        rng, subjects = self.rng, []
        for _ in range(3000):
            if rng.random() < 0.75:
                problem = rng.choice(PROBLEMS).format(code=rng.randint(100, 999))
                subject = f"{rng.choice(COMPONENTS).capitalize()} {problem}"
            else:
                subject = self._fill(rng.choice(REQUESTS))
            subjects.append(subject[:200])
        return subjects

    def _texts(self, templates, count):
        return [self._fill(self.rng.choice(templates)) for _ in range(count)]

    def batches(self):
        done = 0
        while done < self.total:
            size = min(BATCH, self.total - done)
            yield self._batch(done, size)
            done += size

    def _batch(self, offset, size):
        rng, ctx = self.rng, self.ctx
        random_, choice, expovariate = rng.random, rng.choice, rng.expovariate
        until_ts = self.until.timestamp()
        start_ts, span, total = self.start.timestamp(), self.span, self.total
        addresses = ctx.addresses
        picks = rng.choices(range(len(addresses)), cum_weights=ctx.cum_weights, k=size)
        subjects, bodies = self.subjects, self.bodies
        tickets, messages, events = [], [], []
        per_ticket = self.messages_per_ticket
        default_name = ctx.default_status_name
        for position in range(size):
            i = offset + position
            created = start_ts + span * (i + random_()) / total
            address = addresses[picks[position]]
            age_days = (until_ts - created) / DAY
            is_open = random_() < 0.05 + 0.9 * math.exp(-age_days / 180)

            writers = ctx.writers.get(address)
            if writers and random_() < 0.9:
                creator = choice(writers)
                creator_external = True
                team_choices = ctx.user_teams.get(creator) or ctx.teams
            else:  # an agent files it on the customer's behalf (a phone call)
                creator = choice(ctx.agents)
                creator_external = False
                team_choices = ctx.teams
            team = choice(team_choices)
            team_agents = ctx.team_agents.get(team) or ctx.agents
            agent = choice(team_agents)
            responsible_user = agent if random_() < (0.5 if is_open else 0.85) else None
            if responsible_user is not None and random_() < 0.1:
                team = None  # sent to a person only
            machines = ctx.machines.get(address)
            machine = choice(machines) if machines and random_() < 0.6 else None
            contact = ctx.main_contact.get(address) if random_() < 0.5 else None
            subject = choice(subjects)
            if machine is not None and random_() < 0.3:
                subject = f"{machine[1]}: {subject}"[:200]
            type_id = self.type_values[bisect_right(self.type_cum, random_() * self.type_cum[-1])]
            priority = self.priority_values[
                bisect_right(self.priority_cum, random_() * self.priority_cum[-1])
            ]
            if is_open:
                status_id, status_name, _w = ctx.open_statuses[
                    bisect_right(self.open_cum, random_() * self.open_cum[-1])
                ]
            else:
                status_id, status_name, _w = ctx.closed_statuses[
                    bisect_right(self.closed_cum, random_() * self.closed_cum[-1])
                ]

            # The conversation: description, then the agent and the customer take turns; in
            # every fourth ticket the customer adds to the description before the agent answers,
            # so with three messages the agent has the last word and the ticket waits for the
            # customer (the dashboard's "waiting for your answer"). `awaiting` follows
            # `Ticket.awaiting_customer` (tickets.models): whether the latest public message is
            # an internal user's. Messages are in time order (and get their ids in this order),
            # so the last public one decides; one without author, never.
            offsets, authors, kinds, texts = [0.0], [creator], ["description"], []
            texts.append(choice(bodies["description"]))
            awaiting = not creator_external
            moment = 0.0
            customer_first = i % 4 == 3
            for turn in range(1, per_ticket):
                moment += HOUR * (0.5 + expovariate(1 / 20))
                offsets.append(moment)
                if (turn % 2 == 1) != customer_first:
                    note = random_() < 0.2
                    authors.append(agent)
                    kinds.append("internal_note" if note else "reply")
                    texts.append(choice(bodies["note" if note else "agent"]))
                    awaiting = awaiting or not note
                else:
                    authors.append(creator if creator_external else (writers or [None])[0])
                    kinds.append("reply")
                    texts.append(choice(bodies["customer"]))
                    awaiting = False  # an external user's reply, or one without author
            closing = moment + HOUR * (1 + expovariate(1 / 48)) if not is_open else None
            last = closing if closing is not None else moment
            if created + last > until_ts and last > 0:  # squeeze recent tickets into the past
                scale = max(0.0, until_ts - created) / last * 0.999
                offsets = [o * scale for o in offsets]
                closing = closing * scale if closing is not None else None
                moment *= scale
            at = [datetime.fromtimestamp(created + o, UTC) for o in offsets]
            created_at = at[0]
            public = [at[k] for k in range(len(at)) if kinds[k] != "internal_note"]
            closed_at = datetime.fromtimestamp(created + closing, UTC) if closing else None
            updated_at = closed_at or max(public)

            tickets.append(
                (
                    subject,
                    type_id,
                    status_id,
                    priority,
                    address,
                    machine[0] if machine else None,
                    contact,
                    creator,
                    team,
                    responsible_user,
                    created_at,
                    updated_at,
                    closed_at,
                    awaiting,
                )
            )
            for k in range(len(at)):
                messages.append((position, authors[k], kinds[k], texts[k], at[k]))
            events.append((position, creator, "created", "", default_name, created_at))
            if status_name != default_name:
                changed_at = closed_at or (at[1] if len(at) > 1 else created_at)
                old = "In progress" if closed_at and random_() < 0.6 else default_name
                events.append((position, agent, "status_changed", old, status_name, changed_at))
            if closed_at is not None:
                events.append((position, agent, "closed", "", "", closed_at))
        return tickets, messages, events


# ---------------------------------------------------------------------------------------------
# Writers.


def _extra_columns(model, given):
    """Concrete columns we do not fill ourselves (added to the model later), with their
    defaults, so COPY keeps working when a field with a default is added."""
    extra = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in given or getattr(field, "generated", False):
            continue
        if field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        else:
            raise CommandError(
                f"seed_bench does not know how to fill {model.__name__}.{field.name}; "
                "add it to the generator."
            )
        extra.append((field.column, value))
    return extra


class PostgresWriter:
    """COPY in batches; ids and numbers drawn from the sequences, so the ORM goes on after."""

    TABLES = (Ticket, Message, TicketEvent)

    def __init__(self, *, defer_indexes, log):
        self.defer_indexes = defer_indexes
        self.log = log
        self.saved = []
        self.copy_sql, self.extra = {}, {}
        for model, fields, with_id in (
            (Ticket, ("number",) + TicketGenerator.TICKET_FIELDS, True),
            (Message, TicketGenerator.MESSAGE_FIELDS, False),
            (TicketEvent, TicketGenerator.EVENT_FIELDS, False),
        ):
            extra = _extra_columns(model, set(fields))
            # get_field() knows attnames too ("address_id").
            columns = (["id"] if with_id else []) + [
                model._meta.get_field(name).column for name in fields
            ]
            columns += [column for column, _value in extra]
            self.copy_sql[model] = (
                f"COPY {connection.ops.quote_name(model._meta.db_table)} "
                f"({', '.join(connection.ops.quote_name(c) for c in columns)}) FROM STDIN"
            )
            self.extra[model] = tuple(value for _column, value in extra)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Ticket._meta.db_table])
            self.id_sequence = cursor.fetchone()[0]

    # Tables whose own triggers (the desk's search documents, desk/migrations/0003) are
    # switched off for the load; the documents are then rebuilt once, set-based.
    TRIGGER_TABLES = (Ticket, Message)

    def before(self):
        with connection.cursor() as cursor:
            # Run the deferred foreign-key checks of the rows inserted so far (the population):
            # a table with pending trigger events cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for model in self.TRIGGER_TABLES:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        if not self.defer_indexes:
            return
        with connection.cursor() as cursor:
            for model in self.TABLES:
                table = model._meta.db_table
                cursor.execute(
                    """
                    SELECT c.conname, pg_get_constraintdef(c.oid)
                    FROM pg_constraint c
                    WHERE c.conrelid = %s::regclass AND c.contype = 'f'
                    ORDER BY c.conname
                    """,
                    [table],
                )
                for name, definition in cursor.fetchall():
                    self.saved.append(
                        f"ALTER TABLE {connection.ops.quote_name(table)} "
                        f"ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
                    )
                    cursor.execute(
                        f"ALTER TABLE {connection.ops.quote_name(table)} "
                        f"DROP CONSTRAINT {connection.ops.quote_name(name)}"
                    )
                for definition in self.drop_indexes(cursor, table):
                    self.saved.insert(0, definition)  # indexes before the foreign keys
        self.log(f"  dropped {len(self.saved)} secondary indexes and foreign keys for the load")

    @staticmethod
    def drop_indexes(cursor, table):
        """Drop `table`'s secondary indexes (not the primary key, unique indexes or those of
        constraints); returns the statements that create them again."""
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
              AND NOT i.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                              WHERE c.conindid = i.indexrelid)
            ORDER BY 1
            """,
            [table],
        )
        definitions = []
        for name, definition in cursor.fetchall():
            definitions.append(definition)
            cursor.execute(f"DROP INDEX {name}")
        return definitions

    def write(self, tickets, messages, events):
        count = len(tickets)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [self.id_sequence, count]
            )
            ids = [row[0] for row in cursor.fetchall()]
            numbers = next_ticket_numbers(count)
            raw = cursor.cursor
            extra = self.extra[Ticket]
            with raw.copy(self.copy_sql[Ticket]) as copy:
                write_row = copy.write_row
                for ticket_id, number, row in zip(ids, numbers, tickets, strict=True):
                    write_row((ticket_id, number, *row, *extra))
            for model, rows in ((Message, messages), (TicketEvent, events)):
                extra = self.extra[model]
                with raw.copy(self.copy_sql[model]) as copy:
                    write_row = copy.write_row
                    for row in rows:
                        write_row((ids[row[0]], *row[1:], *extra))

    def after(self, timer):
        if self.saved:
            with connection.cursor() as cursor:
                for statement in self.saved:
                    cursor.execute(statement)
            self.log(
                f"  re-created {len(self.saved)} indexes and foreign keys "
                f"in {timer.lap('indexes'):.1f}s"
            )
        with connection.cursor() as cursor:
            for model in self.TRIGGER_TABLES:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            cursor.execute("SELECT to_regproc('desk_search_rebuild') IS NOT NULL")
            if cursor.fetchone()[0]:
                # Its GIN indexes are built once over the rebuilt table, not row by row.
                indexes = (
                    self.drop_indexes(cursor, "desk_search_document") if self.defer_indexes else []
                )
                cursor.execute("SELECT desk_search_rebuild()")
                for definition in indexes:
                    cursor.execute(definition)
                self.log(f"  rebuilt the search documents in {timer.lap('search'):.1f}s")


class OrmWriter:
    """bulk_create (SQLite and other databases without COPY)."""

    def before(self):
        pass

    def write(self, tickets, messages, events):
        fields = TicketGenerator.TICKET_FIELDS
        with _explicit(Ticket, "updated_at"):
            objs = Ticket.objects.bulk_create(
                [Ticket(**dict(zip(fields, row, strict=True))) for row in tickets],
                batch_size=500,
            )
        pks = [obj.pk for obj in objs]
        Message.objects.bulk_create(
            [
                Message(ticket_id=pks[t], author_id=a, kind=k, body=b, created_at=c)
                for t, a, k, b, c in messages
            ],
            batch_size=500,
        )
        TicketEvent.objects.bulk_create(
            [
                TicketEvent(
                    ticket_id=pks[t], actor_id=a, kind=k, old_value=o, new_value=n, created_at=c
                )
                for t, a, k, o, n, c in events
            ],
            batch_size=500,
        )

    def after(self, timer):
        pass


# ---------------------------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Create a large deterministic data set for the benchmark: customers with sites, "
        "contact persons, machines, teams, support staff, external users and N tickets with "
        "their conversations and history. PostgreSQL: COPY; elsewhere: bulk_create."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, required=True, help="Number of tickets.")
        parser.add_argument("--addresses", type=int, default=10_000)
        parser.add_argument("--external-users", type=int, default=2_000)
        parser.add_argument("--staff", type=int, default=50)
        parser.add_argument("--teams", type=int, default=5, choices=range(1, 6))
        parser.add_argument("--messages-per-ticket", type=int, default=3)
        parser.add_argument("--years", type=float, default=5.0, help="History length.")
        parser.add_argument(
            "--until",
            help="Date of the newest ticket (YYYY-MM-DD, UTC); default: today. Same seed, "
            "sizes and --until give the same data.",
        )
        parser.add_argument("--seed", type=int, default=20260101)
        parser.add_argument(
            "--append",
            action="store_true",
            help="Run although the database has tickets: reuse the bench population if it "
            "exists and add the tickets.",
        )
        parser.add_argument(
            "--indexes",
            choices=("auto", "defer", "keep"),
            default="auto",
            help="PostgreSQL: drop the secondary indexes and foreign keys of the ticket tables "
            "for the load and re-create them after (defer), leave them (keep), or defer for "
            "50,000 tickets and more (auto).",
        )
        parser.add_argument(
            "--no-vacuum", action="store_true", help="Skip VACUUM ANALYZE after the load."
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        n_tickets = options["tickets"]
        sizes = {k: options[k] for k in ("addresses", "external_users", "staff", "teams")}
        if n_tickets < 0 or options["messages_per_ticket"] < 1:
            raise CommandError("--tickets must be >= 0 and --messages-per-ticket >= 1.")
        if sizes["addresses"] < 1 or sizes["external_users"] < 1 or sizes["staff"] < 1:
            raise CommandError("--addresses, --external-users and --staff must be >= 1.")
        existing = Ticket.objects.count()
        if existing and not options["append"]:
            raise CommandError(
                f"This database already has {existing} tickets. seed_bench is for an empty "
                "benchmark database (create one and migrate it); pass --append to add tickets "
                "anyway."
            )
        until = self._until(options["until"])
        start = until - timedelta(days=365.25 * options["years"])
        postgres = connection.vendor == "postgresql"
        defer = postgres and (
            options["indexes"] == "defer"
            or (options["indexes"] == "auto" and n_tickets >= 50_000 and existing < n_tickets)
        )
        seed = options["seed"]
        timer = Timer()
        self.log(
            f"seed_bench: {n_tickets:,} tickets on {connection.vendor} "
            f"(seed {seed}, {start:%Y-%m-%d} .. {until:%Y-%m-%d})"
        )

        with transaction.atomic():
            types = self._types()
            statuses = self._statuses()
            teams = self._teams(sizes["teams"])
            population = None
            if User.objects.filter(email=AGENT_EMAIL).exists():
                self.log("  reusing the bench population already in the database")
            else:
                population = Population(
                    rng=random.Random(f"{seed}:population"),
                    addresses=sizes["addresses"],
                    external_users=sizes["external_users"],
                    staff=sizes["staff"],
                    password_hash=make_password(BENCH_PASSWORD),
                )
                population.create(teams=teams, types=types, statuses=statuses)
                self.log(
                    "  population: "
                    + ", ".join(f"{v:,} {k}" for k, v in population.counts.items())
                    + f" in {timer.lap('population'):.1f}s"
                )
            context = Context(rng=random.Random(f"{seed}:weights"), types=types, statuses=statuses)
            generator = TicketGenerator(
                rng=random.Random(f"{seed}:tickets:{existing}"),
                context=context,
                total=n_tickets,
                start=start,
                until=until,
                messages_per_ticket=options["messages_per_ticket"],
            )
            writer = PostgresWriter(defer_indexes=defer, log=self.log) if postgres else OrmWriter()
            timer.lap("context")
            writer.before()
            made = {"tickets": 0, "messages": 0, "events": 0}
            next_report = 100_000
            for tickets, messages, events in generator.batches():
                writer.write(tickets, messages, events)
                made["tickets"] += len(tickets)
                made["messages"] += len(messages)
                made["events"] += len(events)
                if made["tickets"] >= next_report or made["tickets"] == n_tickets:
                    next_report += 100_000
                    self.log(
                        f"  {made['tickets']:,} tickets, {made['messages']:,} messages, "
                        f"{made['events']:,} events ({timer.total:.1f}s)"
                    )
            load_time = timer.lap("tickets")
            writer.after(timer)
        timer.lap("commit")

        if postgres:
            self._analyze(vacuum=not options["no_vacuum"])
            timer.lap("analyze")
        self._report(made, load_time, timer)

    # -----------------------------------------------------------------------------------------

    def log(self, text):
        if self.verbosity >= 1:
            self.stdout.write(text)
            self.stdout.flush()

    def _until(self, value):
        if value:
            try:
                day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError as error:
                raise CommandError("--until must be a date like 2026-01-31.") from error
        else:
            day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return day

    def _types(self):
        types = {}
        for name, order, _weight in TICKET_TYPES:
            types[name] = TicketType.objects.get_or_create(name=name, defaults={"order": order})[0]
        return types

    def _statuses(self):
        statuses = {}
        for group, closed in ((OPEN_STATUSES, False), (CLOSED_STATUSES, True)):
            for name, order, _weight in group:
                statuses[name] = TicketStatus.objects.get_or_create(
                    name=name, defaults={"order": order, "is_closed": closed}
                )[0]
        if not TicketStatus.objects.filter(is_default=True).exists():
            raise CommandError("No default ticket status: run the migrations first.")
        return statuses

    def _teams(self, count):
        return [
            Team.objects.get_or_create(name=name, defaults={"email": TEAM_EMAILS[name]})[0]
            for name in TEAM_NAMES[:count]
        ]

    def _analyze(self, *, vacuum):
        tables = [model._meta.db_table for model in PostgresWriter.TABLES]
        with connection.cursor() as cursor:
            if vacuum and not connection.in_atomic_block:
                cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
            cursor.execute("ANALYZE")

    def _report(self, made, load_time, timer):
        rate = made["tickets"] / load_time if load_time else 0
        lines = [
            "",
            f"Made {made['tickets']:,} tickets, {made['messages']:,} messages and "
            f"{made['events']:,} events in {load_time:.1f}s ({rate:,.0f} tickets/s).",
        ]
        for name, seconds, _at in timer.phases:
            lines.append(f"  {name:<12} {seconds:8.1f}s")
        lines += [
            f"Total: {timer.total:.1f}s.",
            f"Tickets now in the database: {Ticket.objects.count():,} "
            f"(open: {Ticket.objects.open().count():,}).",
            "",
            f"All bench accounts share the password: {BENCH_PASSWORD}",
            f"  customer with {PERSONA_SITES} sites (Portal editor): {CUSTOMER_EMAIL}",
            f"  support agent: {AGENT_EMAIL}",
            "Sign in at /accounts/login/ with the e-mail address and the password.",
        ]
        if self.verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(lines[1]))
            for line in lines[2:]:
                self.stdout.write(line)

"""The portal's header search: /portal/search/?q=…

Each group (tickets, addresses, machines, contact persons) is searched only when the user holds
its basic right, and only within its scoped queryset (`visible_to(user)`), so the search never
finds what the user may not open. Each group runs one query with LIMIT 11: ten rows are shown,
and an eleventh only tells that there are more (no COUNT over everything).
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from access import policy
from access.mixins import PortalAccessMixin
from addresses.models import Address, ContactPerson, Machine
from addresses.portal_views import match_all_terms, search_terms
from tickets.models import Ticket

RESULTS_PER_GROUP = 10
MAX_QUERY_LENGTH = 100
# Ticket numbers are BigIntegerField: a longer digit string can only match subjects.
MAX_TICKET_NUMBER_DIGITS = 18


SEARCHABLE_RIGHTS = (
    policy.TICKETS_READ,
    policy.ADDRESSES_READ,
    policy.MACHINES_READ,
    policy.CONTACTS_READ,
)


class SearchGroup:
    def __init__(self, key, title, rows):
        self.key = key
        self.title = title
        self.results = rows[:RESULTS_PER_GROUP]
        self.has_more = len(rows) > RESULTS_PER_GROUP


def _first(qs):
    return list(qs[: RESULTS_PER_GROUP + 1])


class SearchView(PortalAccessMixin, TemplateView):
    template_name = "portal/search.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = " ".join(self.request.GET.get("q", "").split())[:MAX_QUERY_LENGTH]
        grants = policy.grants_for(self.request.user)
        groups = self.search(query) if query else []
        context.update(
            active_nav="search",
            search_query=query,
            results_per_group=RESULTS_PER_GROUP,
            groups=groups,
            found_anything=any(group.results for group in groups),
            may_search=any(grants.has(perm) for perm in SEARCHABLE_RIGHTS),
        )
        return context

    def search(self, query):
        user = self.request.user
        grants = policy.grants_for(user)
        terms = search_terms(query)
        groups = []
        if grants.has(policy.TICKETS_READ):
            condition = match_all_terms(terms, ["subject"])
            number = query.removeprefix("#")
            if number.isdecimal() and len(number) <= MAX_TICKET_NUMBER_DIGITS:
                condition |= Q(number=int(number))
            rows = _first(
                Ticket.objects.visible_to(user)
                .filter(condition)
                .select_related("status", "type")
                .order_by("-updated_at", "-pk")
            )
            groups.append(SearchGroup("tickets", _("Tickets"), rows))
        if grants.has(policy.ADDRESSES_READ):
            rows = _first(
                Address.objects.visible_to(user)
                .filter(match_all_terms(terms, ["number", "name", "city"]))
                .order_by("number", "pk")
            )
            groups.append(SearchGroup("addresses", _("Addresses"), rows))
        if grants.has(policy.MACHINES_READ):
            rows = _first(
                Machine.objects.visible_to(user)
                .filter(match_all_terms(terms, ["number", "name", "serial_number"]))
                .select_related("address")
                .order_by("number", "pk")
            )
            self.flag_address_visible(rows)
            groups.append(SearchGroup("machines", _("Machines"), rows))
        if grants.has(policy.CONTACTS_READ):
            rows = _first(
                ContactPerson.objects.visible_to(user)
                .filter(match_all_terms(terms, ["first_name", "last_name", "email"]))
                .select_related("address")
                .order_by("last_name", "first_name", "pk")
            )
            self.flag_address_visible(rows)
            groups.append(SearchGroup("contacts", _("Contact persons"), rows))
        return groups

    def flag_address_visible(self, rows):
        """Name a row's address only where the user may see that address."""
        user = self.request.user
        for row in rows:
            row.address_visible = bool(policy.can_see_address(user, row.address))

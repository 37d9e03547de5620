"""JSON autocompletes for the ticket form (Select2's format), over the access policy.

django-select2's own view is not used: it answers from a queryset cached when the form was
rendered and does not ask who is calling (NOTES.md). These views ask the policy on every request
and return nothing outside the caller's scope.

Response: {"results": [{"id": ..., "text": ...}], "more": bool}; GET `term` (optional),
`page` (1-based, 20 a page; an invalid page gives the nearest one).
"""

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import JsonResponse
from django.views import View

from access import policy
from access.mixins import PortalAccessMixin
from accounts.models import Team, User
from addresses.models import Address, Machine

from .models import Ticket

PAGE_SIZE = 20


class AutocompleteView(PortalAccessMixin, View):
    http_method_names = ["get"]

    def get_results(self, term):
        """A queryset or list of objects for `term`; `as_result` turns each into a dict."""
        raise NotImplementedError

    def as_result(self, obj):
        return {"id": obj.pk, "text": str(obj)}

    def get(self, request):
        term = request.GET.get("term", "").strip()[:100]
        page = Paginator(self.get_results(term), PAGE_SIZE).get_page(request.GET.get("page"))
        return JsonResponse(
            {"results": [self.as_result(obj) for obj in page], "more": page.has_next()}
        )


class AddressAutocomplete(AutocompleteView):
    """Addresses the user may file a ticket at; with `?purpose=filter`, the addresses of the
    tickets the user may see (the ticket list's address filter)."""

    def get_results(self, term):
        user = self.request.user
        if self.request.GET.get("purpose") == "filter":
            addresses = Address.objects.filter(
                Exists(Ticket.objects.visible_to(user).filter(address=OuterRef("pk")))
            )
        else:
            addresses = Address.objects.fileable_by(user)
        if term:
            addresses = addresses.filter(
                Q(number__icontains=term) | Q(name__icontains=term) | Q(city__icontains=term)
            )
        return addresses.order_by("number")


class MachineAutocomplete(AutocompleteView):
    """Machines the user may name on a ticket at `?address=<pk>` (required)."""

    def get_results(self, term):
        user = self.request.user
        address_id = self.request.GET.get("address", "")
        address = (
            Address.objects.fileable_by(user).filter(pk=address_id).first()
            if address_id.isdecimal()
            else None
        )
        if address is None:
            return Machine.objects.none()
        machines = policy.machines_fileable(Machine.objects.all(), user, address)
        if term:
            machines = machines.filter(
                Q(number__icontains=term)
                | Q(name__icontains=term)
                | Q(serial_number__icontains=term)
                | Q(model__icontains=term)
            )
        return machines.order_by("number")


class RecipientAutocomplete(AutocompleteView):
    """Teams and internal users the user may send a ticket to; ids `team:<pk>`, `user:<pk>`
    as in the ticket form. The sets are the user's own short lists, so both are read whole."""

    def get_results(self, term):
        user = self.request.user
        teams = Team.objects.recipients_for(user).order_by("name")
        people = User.objects.recipients_for(user).order_by("last_name", "first_name", "email")
        if term:
            teams = teams.filter(name__icontains=term)
            people = people.filter(Q(first_name__icontains=term) | Q(last_name__icontains=term))
        return [*(("team", team) for team in teams), *(("user", person) for person in people)]

    def as_result(self, item):
        kind, obj = item
        return {"id": f"{kind}:{obj.pk}", "text": str(obj)}

"""Portal pages for addresses, machines and contact persons (DESIGN.md's URL map).

Every object is fetched through its scoped queryset (`visible_to(user)`), so anything outside
the user's scope is a 404 exactly like a missing row; a visible object the user may not change
is a 403 from the policy's write predicate. Each section of a page is shown only with its basic
right, and every flag a template uses (`can_edit`, `can_add_contact` …) is computed here from
`access.policy`. Writes go through `addresses.services`.
"""

import copy

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView, ListView

from access import policy
from access.mixins import PortalAccessMixin
from tickets.models import Ticket

from . import forms, services
from .models import Address, ContactPerson, Machine

SECTION_PAGE_SIZE = 25
LATEST_TICKETS = 10


def search_terms(query, limit=5):
    """The words of a search box, at most `limit` of them (each must match somewhere)."""
    return query.split()[:limit]


def match_all_terms(terms, fields):
    """Q: every term matches at least one of `fields` (icontains)."""
    condition = Q()
    for term in terms:
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": term})
        condition &= any_field
    return condition


def latest_tickets(user, **filters):
    """The latest tickets the user may see, or None without the Tickets right."""
    if not policy.grants_for(user).has(policy.TICKETS_READ):
        return None
    return list(
        Ticket.objects.visible_to(user)
        .filter(**filters)
        .select_related("status", "type")
        .order_by("-updated_at", "-pk")[:LATEST_TICKETS]
    )


def add_service_errors(form, exc):
    """Put a service's ValidationError back on the form (unknown fields as form errors)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class PortalPageMixin(PortalAccessMixin):
    """PortalAccessMixin plus the portal layout's context (`active_nav`)."""

    active_nav = None

    def get_context_data(self, **kwargs):
        kwargs.setdefault("active_nav", self.active_nav)
        return super().get_context_data(**kwargs)


class ScopedEditView(PortalPageMixin, FormView):
    """Edit one object: 404 outside `visible_to(user)`, 403 when `edit_predicate` refuses.

    The object is fetched and authorised for GET and POST alike (`setup_object`, after
    PortalAccessMixin's check), so a forged POST is refused before any form is bound; the
    service asks the policy again inside its transaction.
    """

    model = None
    edit_predicate = None  # staticmethod(policy predicate (user, obj) -> Decision)
    service = None  # staticmethod(addresses.services function)
    service_object_kwarg = None  # the service's keyword for the object
    success_message = None
    success_url_name = None

    def get_scoped_queryset(self):
        return self.model.objects.visible_to(self.request.user)

    def setup_object(self):
        self.object = get_object_or_404(self.get_scoped_queryset(), pk=self.kwargs["pk"])
        decision = self.edit_predicate(self.request.user, self.object)
        if not decision:
            raise PermissionDenied(decision.reason)

    def get(self, request, *args, **kwargs):
        self.setup_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.setup_object()
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        # The form works on a copy: an invalid form must not alter the page's headings.
        kwargs["instance"] = copy.copy(self.object)
        return kwargs

    def get_context_data(self, **kwargs):
        kwargs.setdefault("object", self.object)
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        try:
            saved = self.service(
                actor=self.request.user,
                data=form.cleaned_data,
                **{self.service_object_kwarg: self.object},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"object": saved})
        return HttpResponseRedirect(self.get_success_url(saved))

    def get_success_url(self, saved):
        return reverse(self.success_url_name, kwargs={"pk": saved.pk})


# ---------------------------------------------------------------------------------------------
# Addresses.


class AddressListView(PortalPageMixin, ListView):
    template_name = "addresses/address_list.html"
    context_object_name = "addresses"
    paginate_by = 25
    active_nav = "addresses"

    def get_queryset(self):
        self.query = self.request.GET.get("q", "").strip()[:100]
        qs = Address.objects.visible_to(self.request.user).select_related("parent")
        terms = search_terms(self.query)
        if terms:
            qs = qs.filter(match_all_terms(terms, ["number", "name", "city"]))
        return qs.order_by("number", "pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        for address in context["addresses"]:
            address.can_edit = bool(policy.can_edit_address(user, address))
            # Name the headquarters only where the user may see it.
            parent = address.parent
            address.visible_parent = (
                parent if parent and policy.can_see_address(user, parent) else None
            )
        context["query"] = self.query
        context["may_see_addresses"] = policy.grants_for(user).has(policy.ADDRESSES_READ)
        return context


class AddressDetailView(PortalPageMixin, DetailView):
    template_name = "addresses/address_detail.html"
    context_object_name = "address"
    active_nav = "addresses"

    def get_queryset(self):
        return Address.objects.visible_to(self.request.user).select_related("parent")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        address = self.object
        grants = policy.grants_for(user)
        context["can_edit"] = bool(policy.can_edit_address(user, address))
        context["can_add_contact"] = bool(policy.can_add_contact(user, address))
        parent = address.parent
        context["parent"] = parent if parent and policy.can_see_address(user, parent) else None
        context["sites"] = list(
            Address.objects.visible_to(user).filter(parent=address).order_by("number")
        )
        context["show_machines"] = grants.has(policy.MACHINES_READ)
        context["show_contacts"] = grants.has(policy.CONTACTS_READ)
        if context["show_machines"]:
            machines = (
                Machine.objects.visible_to(user)
                .filter(address=address)
                .order_by("-is_active", "number", "pk")
            )
            context["machines_page"] = Paginator(machines, SECTION_PAGE_SIZE).get_page(
                self.request.GET.get("machines_page")
            )
        if context["show_contacts"]:
            contacts = (
                ContactPerson.objects.visible_to(user)
                .filter(address=address)
                .order_by("-is_active", "-is_main", "last_name", "first_name", "pk")
            )
            context["contacts_page"] = Paginator(contacts, SECTION_PAGE_SIZE).get_page(
                self.request.GET.get("contacts_page")
            )
        context["tickets"] = latest_tickets(user, address=address)
        context["show_tickets"] = context["tickets"] is not None
        context["tickets_filter"] = f"address={address.pk}"
        return context


class AddressEditView(ScopedEditView):
    model = Address
    form_class = forms.AddressForm
    template_name = "addresses/address_form.html"
    active_nav = "addresses"
    edit_predicate = staticmethod(policy.can_edit_address)
    service = staticmethod(services.address_update)
    service_object_kwarg = "address"
    success_message = gettext_lazy("The address %(object)s was saved.")
    success_url_name = "portal:address-detail"


class ContactCreateView(PortalPageMixin, FormView):
    """Add a contact person at an address the user may see (404) and add contacts to (403)."""

    form_class = forms.ContactPersonCreateForm
    template_name = "addresses/contactperson_form.html"
    active_nav = "addresses"

    def setup_address(self):
        user = self.request.user
        self.address = get_object_or_404(Address.objects.visible_to(user), pk=self.kwargs["pk"])
        decision = policy.can_add_contact(user, self.address)
        if not decision:
            raise PermissionDenied(decision.reason)

    def get(self, request, *args, **kwargs):
        self.setup_address()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.setup_address()
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        kwargs["instance"] = ContactPerson(address=self.address)
        return kwargs

    def get_context_data(self, **kwargs):
        kwargs.setdefault("address", self.address)
        kwargs.setdefault("is_new", True)
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        try:
            contact = services.contact_create(
                actor=self.request.user, address=self.address, data=form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request, _("The contact person %(name)s was added.") % {"name": contact}
        )
        return HttpResponseRedirect(reverse("portal:contact-detail", kwargs={"pk": contact.pk}))


# ---------------------------------------------------------------------------------------------
# Machines.


class MachineDetailView(PortalPageMixin, DetailView):
    template_name = "addresses/machine_detail.html"
    context_object_name = "machine"
    active_nav = "addresses"

    def get_queryset(self):
        return Machine.objects.visible_to(self.request.user).select_related("address")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        machine = self.object
        context["can_edit"] = bool(policy.can_edit_machine(user, machine))
        context["address_visible"] = bool(policy.can_see_address(user, machine.address))
        context["tickets"] = latest_tickets(user, machine=machine)
        context["show_tickets"] = context["tickets"] is not None
        context["tickets_filter"] = f"machine={machine.pk}"
        return context


class MachineEditView(ScopedEditView):
    model = Machine
    form_class = forms.MachineForm
    template_name = "addresses/machine_form.html"
    active_nav = "addresses"
    edit_predicate = staticmethod(policy.can_edit_machine)
    service = staticmethod(services.machine_update)
    service_object_kwarg = "machine"
    success_message = gettext_lazy("The machine %(object)s was saved.")
    success_url_name = "portal:machine-detail"

    def get_scoped_queryset(self):
        return Machine.objects.visible_to(self.request.user).select_related("address")

    def get_context_data(self, **kwargs):
        kwargs.setdefault(
            "address_visible", bool(policy.can_see_address(self.request.user, self.object.address))
        )
        return super().get_context_data(**kwargs)


# ---------------------------------------------------------------------------------------------
# Contact persons.


class ContactDetailView(PortalPageMixin, DetailView):
    template_name = "addresses/contactperson_detail.html"
    context_object_name = "contact"
    active_nav = "addresses"

    def get_queryset(self):
        return ContactPerson.objects.visible_to(self.request.user).select_related("address")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        contact = self.object
        context["can_edit"] = bool(policy.can_edit_contact(user, contact))
        context["address_visible"] = bool(policy.can_see_address(user, contact.address))
        return context


class ContactEditView(ScopedEditView):
    model = ContactPerson
    form_class = forms.ContactPersonForm
    template_name = "addresses/contactperson_form.html"
    active_nav = "addresses"
    edit_predicate = staticmethod(policy.can_edit_contact)
    service = staticmethod(services.contact_update)
    service_object_kwarg = "contact"
    success_message = gettext_lazy("The contact person %(object)s was saved.")
    success_url_name = "portal:contact-detail"

    def get_scoped_queryset(self):
        return ContactPerson.objects.visible_to(self.request.user).select_related("address")

    def get_context_data(self, **kwargs):
        kwargs.setdefault("address", self.object.address)
        kwargs.setdefault(
            "address_visible", bool(policy.can_see_address(self.request.user, self.object.address))
        )
        return super().get_context_data(**kwargs)

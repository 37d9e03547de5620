"""The portal user's own account: /portal/profile/.

Shows the account (name and e-mail read-only: administrators maintain them and the e-mail is
the login), the language (saved to `user.language` and applied at once), the home address, the
linked contact person (editable in place when the policy allows it) and a read-only summary of
what the user may reach, computed from `access.policy`.
"""

import copy

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from access import policy
from access.mixins import PortalAccessMixin
from addresses import services
from addresses.forms import ContactPersonForm
from addresses.models import Address, ContactPerson
from addresses.portal_views import add_service_errors
from tickets.models import TicketStatus, TicketType

from .models import Team, User
from .portal_forms import ProfileForm

PROFILE_FORM = "profile"
CONTACT_FORM = "contact"
SUMMARY_ADDRESS_LIMIT = 50

# The basic rights, grouped as a customer reads them (labels translatable, unlike the
# policy's administrator-facing RIGHT_LABELS).
RIGHT_ROWS = [
    (
        gettext_lazy("Tickets"),
        [
            (gettext_lazy("see"), policy.TICKETS_READ),
            (gettext_lazy("file"), policy.TICKETS_FILE),
            (gettext_lazy("reply and set status"), policy.TICKETS_WRITE),
        ],
    ),
    (
        gettext_lazy("Addresses"),
        [
            (gettext_lazy("see"), policy.ADDRESSES_READ),
            (gettext_lazy("change"), policy.ADDRESSES_WRITE),
        ],
    ),
    (
        gettext_lazy("Machines"),
        [
            (gettext_lazy("see"), policy.MACHINES_READ),
            (gettext_lazy("change"), policy.MACHINES_WRITE),
        ],
    ),
    (
        gettext_lazy("Contact persons"),
        [
            (gettext_lazy("see"), policy.CONTACTS_READ),
            (gettext_lazy("change"), policy.CONTACTS_WRITE),
            (gettext_lazy("add"), policy.CONTACTS_ADD),
        ],
    ),
]


def access_summary(user):
    """What `user` may reach, in the policy's own terms (read-only, for the profile page)."""
    grants = policy.grants_for(user)
    # Addresses are named only with the Addresses right (like everywhere else); without it the
    # summary gives the sizes of the sets.
    addresses = list(
        Address.objects.visible_to(user).order_by("number", "pk")[:SUMMARY_ADDRESS_LIMIT]
    )
    for address in addresses:
        address.in_write_set = address.pk in grants.write_ids
    return {
        "rights": [
            (section, [(label, grants.has(perm)) for label, perm in rights])
            for section, rights in RIGHT_ROWS
        ],
        "addresses": addresses,
        "addresses_visible": grants.has(policy.ADDRESSES_READ),
        "addresses_more": max(0, len(grants.read_ids) - len(addresses)),
        "read_count": len(grants.read_ids),
        "write_count": len(grants.write_ids),
        "ticket_types": list(TicketType.objects.creatable_by(user)),
        "teams": list(Team.objects.recipients_for(user)),
        "recipient_users": list(User.objects.recipients_for(user)),
        "can_reply": grants.has(policy.TICKETS_READ) and grants.has(policy.TICKETS_WRITE),
        "restrict_status": grants.restrict_status,
        "statuses": list(TicketStatus.objects.settable_by(user)) if grants.restrict_status else [],
    }


class ProfileView(PortalAccessMixin, TemplateView):
    template_name = "accounts/profile.html"

    def linked_contact(self):
        """The user's contact person when the policy lets the user see it, else None."""
        user = self.request.user
        if not user.contact_person_id:
            return None
        return (
            ContactPerson.objects.visible_to(user)
            .select_related("address")
            .filter(pk=user.contact_person_id)
            .first()
        )

    def get_profile_form(self, data=None):
        user = self.request.user
        return ProfileForm(data, user=user, instance=copy.copy(user), prefix=PROFILE_FORM)

    def get_contact_form(self, contact, data=None):
        user = self.request.user
        return ContactPersonForm(data, user=user, instance=copy.copy(contact), prefix=CONTACT_FORM)

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        contact = kwargs.get("contact", self.linked_contact())
        can_edit_contact = bool(contact and policy.can_edit_contact(user, contact))
        context.update(
            active_nav="profile",
            profile_form=kwargs.get("profile_form") or self.get_profile_form(),
            home_address=user.address,
            home_address_visible=bool(user.address and policy.can_see_address(user, user.address)),
            contact=contact,
            contact_linked=bool(user.contact_person_id),
            can_edit_contact=can_edit_contact,
            contact_form=(
                (kwargs.get("contact_form") or self.get_contact_form(contact))
                if can_edit_contact
                else None
            ),
            summary=access_summary(user),
        )
        return context

    def post(self, request, *args, **kwargs):
        which = request.POST.get("form")
        if which == PROFILE_FORM:
            return self.post_profile(request)
        if which == CONTACT_FORM:
            return self.post_contact(request)
        raise Http404

    def post_profile(self, request):
        form = self.get_profile_form(request.POST)
        if form.is_valid():
            try:
                saved = services.profile_update(
                    actor=request.user, user=request.user, data=form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                translation.activate(saved.language)
                messages.success(request, _("Your settings were saved."))
                response = HttpResponseRedirect(reverse("portal:profile"))
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    saved.language,
                    max_age=settings.LANGUAGE_COOKIE_AGE,
                    path=settings.LANGUAGE_COOKIE_PATH,
                    domain=settings.LANGUAGE_COOKIE_DOMAIN,
                    secure=settings.LANGUAGE_COOKIE_SECURE,
                    httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                    samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                )
                return response
        return self.render_to_response(self.get_context_data(profile_form=form))

    def post_contact(self, request):
        contact = self.linked_contact()
        if contact is None:
            raise Http404
        decision = policy.can_edit_contact(request.user, contact)
        if not decision:
            raise PermissionDenied(decision.reason)
        form = self.get_contact_form(contact, request.POST)
        if form.is_valid():
            try:
                saved = services.contact_update(
                    actor=request.user, contact=contact, data=form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, _("Your contact details (%(name)s) were saved.") % {"name": saved}
                )
                return HttpResponseRedirect(reverse("portal:profile"))
        return self.render_to_response(self.get_context_data(contact=contact, contact_form=form))

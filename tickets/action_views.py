"""The pattern every form posted from a ticket page follows, in the portal and in the desk."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse

from .forms import add_service_errors


class TicketActionMixin:
    """A form posted from a ticket page. GET is not allowed (405).

    Order of checks: the ticket through the scope (`get_ticket`, 404), `check` (403, nothing
    saved), the form (errors re-render the ticket page with what was typed, 200), then the
    service in `perform`, which asks the policy again (403) and validates its input (errors on
    the form). The view class supplies `get_ticket`, `get_page_context` and the audience mixin.
    """

    http_method_names = ["post"]
    form_context_name = None
    detail_url_name = None
    anchor = ""

    def check(self, user, ticket):
        raise NotImplementedError

    def perform(self, form):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        decision = self.check(request.user, self.get_ticket())
        if not decision:
            raise PermissionDenied(decision.reason)
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "ticket": self.ticket}

    def form_invalid(self, form):
        return self.render_to_response(self.get_page_context(**{self.form_context_name: form}))

    def form_valid(self, form):
        try:
            self.perform(form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        return redirect(self.get_success_url())

    def get_success_url(self):
        url = reverse(self.detail_url_name, kwargs={"number": self.ticket.number})
        return f"{url}#{self.anchor}" if self.anchor else url

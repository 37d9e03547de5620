"""Portal routes of tickets (included by portal/portal_urls.py, namespace "portal")."""

from django.urls import path

from . import autocomplete, downloads, portal_views

urlpatterns = [
    path("tickets/", portal_views.TicketListView.as_view(), name="ticket-list"),
    path("tickets/new/", portal_views.TicketCreateView.as_view(), name="ticket-create"),
    path("tickets/<int:number>/", portal_views.TicketDetailView.as_view(), name="ticket-detail"),
    path(
        "tickets/<int:number>/reply/", portal_views.TicketReplyView.as_view(), name="ticket-reply"
    ),
    path(
        "tickets/<int:number>/status/",
        portal_views.TicketStatusView.as_view(),
        name="ticket-status",
    ),
    path(
        "tickets/<int:number>/attachments/<int:pk>/",
        downloads.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
    path(
        "autocomplete/addresses/",
        autocomplete.AddressAutocomplete.as_view(),
        name="autocomplete-addresses",
    ),
    path(
        "autocomplete/machines/",
        autocomplete.MachineAutocomplete.as_view(),
        name="autocomplete-machines",
    ),
    path(
        "autocomplete/recipients/",
        autocomplete.RecipientAutocomplete.as_view(),
        name="autocomplete-recipients",
    ),
]

"""/desk/: the support desk (namespace "desk"). Every route is for desk users only."""

from django.urls import path

from . import views

app_name = "desk"

urlpatterns = [
    path("", views.QueueView.as_view(), name="queue"),
    path("bulk/", views.BulkActionView.as_view(), name="bulk"),
    path("filters/", views.SavedFilterCreateView.as_view(), name="filter-save"),
    path("filters/<int:pk>/delete/", views.SavedFilterDeleteView.as_view(), name="filter-delete"),
    path(
        "autocomplete/addresses/",
        views.AddressAutocompleteView.as_view(),
        name="autocomplete-addresses",
    ),
    path("tickets/<int:number>/", views.TicketDetailView.as_view(), name="ticket-detail"),
    path("tickets/<int:number>/message/", views.TicketMessageView.as_view(), name="ticket-message"),
    path("tickets/<int:number>/take/", views.TicketTakeView.as_view(), name="ticket-take"),
    path("tickets/<int:number>/forward/", views.TicketForwardView.as_view(), name="ticket-forward"),
    path("tickets/<int:number>/type/", views.TicketTypeView.as_view(), name="ticket-type"),
    path(
        "tickets/<int:number>/priority/",
        views.TicketPriorityView.as_view(),
        name="ticket-priority",
    ),
    path("tickets/<int:number>/status/", views.TicketStatusView.as_view(), name="ticket-status"),
    path("tickets/<int:number>/close/", views.TicketCloseView.as_view(), name="ticket-close"),
    path("tickets/<int:number>/reopen/", views.TicketReopenView.as_view(), name="ticket-reopen"),
    path(
        "tickets/<int:number>/attachments/<int:pk>/",
        views.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
]

"""/portal/: the external users' area. Each app contributes its routes; all share the
namespace "portal" (URL names such as "portal:ticket-detail")."""

from django.urls import include, path

from . import portal_views, search_views

app_name = "portal"

urlpatterns = [
    path("", portal_views.DashboardView.as_view(), name="dashboard"),
    path("search/", search_views.SearchView.as_view(), name="search"),
    path("", include("tickets.portal_urls")),
    path("", include("addresses.portal_urls")),
    path("", include("accounts.portal_urls")),
]

"""Portal routes for addresses, machines and contact persons (namespace "portal")."""

from django.urls import path

from . import portal_views as views

urlpatterns = [
    path("addresses/", views.AddressListView.as_view(), name="address-list"),
    path("addresses/<int:pk>/", views.AddressDetailView.as_view(), name="address-detail"),
    path("addresses/<int:pk>/edit/", views.AddressEditView.as_view(), name="address-edit"),
    path(
        "addresses/<int:pk>/contacts/new/",
        views.ContactCreateView.as_view(),
        name="contact-create",
    ),
    path("machines/<int:pk>/", views.MachineDetailView.as_view(), name="machine-detail"),
    path("machines/<int:pk>/edit/", views.MachineEditView.as_view(), name="machine-edit"),
    path("contacts/<int:pk>/", views.ContactDetailView.as_view(), name="contact-detail"),
    path("contacts/<int:pk>/edit/", views.ContactEditView.as_view(), name="contact-edit"),
]

"""Portal routes of the user's own account (namespace "portal")."""

from django.urls import path

from . import portal_views

urlpatterns = [
    path("profile/", portal_views.ProfileView.as_view(), name="profile"),
]

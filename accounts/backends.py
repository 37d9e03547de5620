"""E-mail login. Model-level permissions (the roles' basic rights) come from ModelBackend."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from portal.db import row_by_pk


class EmailBackend(ModelBackend):
    """ModelBackend with a case-insensitive e-mail as the user name.

    `get_user` returns nobody for an inactive user (ModelBackend's `user_can_authenticate`),
    so a deactivated user is signed out on the next request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("email")
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        """ModelBackend's, with the row read by a statement written once per connection
        (`portal.db.row_by_pk`): every signed-in request loads its user, and building the
        query with the ORM cost twice as much CPU as running it (docs/performance.md)."""
        user = row_by_pk(get_user_model(), user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

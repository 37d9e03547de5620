"""E-mail login. Model-level permissions (the roles' basic rights) come from ModelBackend."""

from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """ModelBackend with a case-insensitive e-mail as the user name.

    `get_user` returns nobody for an inactive user (ModelBackend's `user_can_authenticate`),
    so a deactivated user is signed out on the next request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("email")
        return super().authenticate(request, username=username, password=password, **kwargs)

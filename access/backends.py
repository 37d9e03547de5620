"""The permission backend: a thin adapter over `access.policy`.

Model-level questions (`obj=None`) are left to ModelBackend (the roles' permissions); this
backend answers object-level questions only, from the policy module.
"""

from django.contrib.auth.backends import BaseBackend

from . import policy


class PolicyBackend(BaseBackend):
    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None):
        if obj is None:
            return False
        return bool(policy.has_object_permission(user_obj, perm, obj))

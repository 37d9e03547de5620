"""Navigation flags for templates, computed by the policy (templates never decide access)."""

from functools import cached_property

from . import policy


class NavigationFlags:
    def __init__(self, user):
        self._user = user

    @cached_property
    def portal(self):
        return bool(policy.can_use_portal(self._user))

    @cached_property
    def can_file(self):
        return self.portal and bool(policy.can_file(self._user))

    @cached_property
    def addresses(self):
        return self.portal and policy.grants_for(self._user).has(policy.ADDRESSES_READ)

    @cached_property
    def tickets(self):
        return self.portal and policy.grants_for(self._user).has(policy.TICKETS_READ)


def navigation(request):
    return {"nav": NavigationFlags(request.user)}

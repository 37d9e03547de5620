"""Who may enter which area. One mixin per audience; views never decide access themselves."""

from django.http import Http404
from django.shortcuts import redirect

from . import policy


class PortalAccessMixin:
    """The portal is for active external users.

    Internal users are sent to their own start page; anybody else gets a 404, exactly as for a
    page that does not exist. Anonymous users never get here (LoginRequiredMiddleware).
    """

    def dispatch(self, request, *args, **kwargs):
        if not policy.can_use_portal(request.user):
            if policy.grants_for(request.user).internal:
                return redirect("home")
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class DeskAccessMixin:
    """The desk is for internal users holding the desk rights; everybody else gets a 404."""

    def dispatch(self, request, *args, **kwargs):
        if not policy.can_use_desk(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

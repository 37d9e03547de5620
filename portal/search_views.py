from django.views.generic import TemplateView

from access.mixins import PortalAccessMixin


class SearchView(PortalAccessMixin, TemplateView):
    template_name = "portal/search.html"

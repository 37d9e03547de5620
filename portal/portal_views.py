from django.views.generic import TemplateView

from access.mixins import PortalAccessMixin


class DashboardView(PortalAccessMixin, TemplateView):
    template_name = "portal/dashboard.html"

"""Attachment downloads. Uploads are never served from MEDIA_URL, only through this view.

The attachment is fetched through its scoped parents: the ticket through
`Ticket.objects.visible_to(user)`, then the attachment among that ticket's messages the user may
see (`policy.messages_visible`), so an internal note's attachment, or one of another ticket, is a
404 exactly like one that does not exist.
"""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views import View

from access import policy
from access.mixins import PortalAccessMixin

from .models import Attachment, Ticket


class AttachmentDownload(View):
    """The download itself; each area adds its own entry mixin (portal, desk)."""

    http_method_names = ["get", "head"]

    def get(self, request, number, pk):
        user = request.user
        ticket = get_object_or_404(Ticket.objects.visible_to(user), number=number)
        messages = policy.messages_visible(ticket.messages.all(), user)
        attachment = get_object_or_404(Attachment.objects.filter(message__in=messages), pk=pk)
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, ValueError):
            # The row survived its file (restored backup, manual clean-up): nothing to send.
            raise Http404 from None
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type="application/octet-stream",
        )
        # Whatever the file claims to be, the browser saves it and never renders it here.
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response["Cache-Control"] = "private, no-store"
        return response


class AttachmentDownloadView(PortalAccessMixin, AttachmentDownload):
    pass

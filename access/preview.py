"""Preview the portal as an external user sees it: read-only, bannered, recorded.

An administrator holding the permission `accounts.preview_as_user` starts a preview from the
user's admin page (`start_preview`, a POST). Until `end_preview`, that administrator's requests
to /portal/ are answered as the external user's would be: `PreviewMiddleware` puts the external
user on `request.user` for portal URLs only, so every access decision comes from that user's
own grants, through the same policy code as the user's own requests. Admin and desk URLs keep the
real user; so does everything outside /portal/.

Read-only, three times over:

* every unsafe method (POST, PUT, PATCH, DELETE) on a portal URL is refused with 403 before any
  view runs;
* while a previewed request runs, the database refuses every write statement, so even a view
  that wrote on GET could not save anything: the request ends in a 403;
* and the whole previewed request runs in a transaction (a savepoint inside an outer one) that is
  always rolled back. The "read-only" page is rendered after that rollback: a refused write
  leaves its transaction unusable until then.

On every request the middleware checks again that the real user is an active staff user with the
permission and that the previewed user is an active external user; otherwise the preview ends
(the session key is dropped) and the request goes on as the real user's. Every start and end is
recorded in the admin log (`LogEntry`: who, whom, when).
"""

import re
from contextlib import ExitStack
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db import connections, transaction
from django.http import Http404, HttpResponseForbidden
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

PERMISSION = "accounts.preview_as_user"
SESSION_KEY = "access_preview_user_id"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
ERROR_TEMPLATE = "admin/accounts/preview/error.html"

# Statements that change data or schema. Reads (and locks such as SELECT … FOR UPDATE, and
# savepoints) pass.
_WRITE_STATEMENT = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|UPSERT|CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|COPY)\b",
    re.IGNORECASE,
)


class PreviewIsReadOnly(PermissionDenied):
    """A write was attempted during a preview."""


@dataclass(frozen=True)
class Preview:
    """The preview a request runs in: `user` is the external user, `real_user` the admin."""

    user: object
    real_user: object


def may_preview(user):
    """Whether `user` may preview the portal as somebody else."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and not getattr(user, "is_external", False)
        and user.has_perm(PERMISSION)
    )


def previewable(user):
    """Whether the portal can be previewed as `user`: active external users only."""
    return bool(user.is_active and getattr(user, "is_external", False))


def _log(admin, target, message):
    LogEntry.objects.log_actions(
        user_id=admin.pk,
        queryset=[target],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )


def start_preview(request, target):
    """Start previewing the portal as `target` in this session, and record it in the admin log.

    The caller has checked nothing: refused unless `may_preview` and `previewable`.
    """
    if not may_preview(request.user) or not previewable(target):
        raise PermissionDenied
    request.session[SESSION_KEY] = target.pk
    _log(
        request.user,
        target,
        f"Started a read-only preview of the portal as {target.email} (by {request.user.email}).",
    )


def end_preview(request):
    """End the session's preview, if any. Returns the previewed user's id (or None)."""
    target_id = request.session.pop(SESSION_KEY, None)
    if target_id is not None and request.user.is_authenticated:
        from accounts.models import User

        target = User.objects.filter(pk=target_id).first()
        if target is not None:
            _log(
                request.user,
                target,
                f"Ended the preview of the portal as {target.email} (by {request.user.email}).",
            )
    return target_id


def _refuse_writes(execute, sql, params, many, context):
    if _WRITE_STATEMENT.match(sql):
        raise PreviewIsReadOnly(_("The preview is read-only: nothing is saved."))
    return execute(sql, params, many, context)


class PreviewMiddleware:
    """Answer /portal/ requests as the previewed external user, read-only (see module doc).

    Must come after AuthenticationMiddleware (and SessionMiddleware).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def portal_prefix(self):
        return reverse("portal:dashboard")

    def __call__(self, request):
        preview = self._preview_for(request)
        # Set on every request, None outside a preview: the portal layout asks for it on every
        # page, and the template engine pays a dir(request) for an attribute that is missing.
        request.access_preview = preview
        if preview is None:
            return self.get_response(request)
        request.user = preview.user

        async def auser():
            return preview.user

        request.auser = auser
        if request.method not in SAFE_METHODS:
            return self._error(request, PreviewIsReadOnly(), 403)
        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(_refuse_writes))
            with transaction.atomic():
                response = self.get_response(request)
                transaction.set_rollback(True)  # a preview never keeps anything
        if getattr(response, "preview_refused_write", False):
            return self._error(request, PreviewIsReadOnly(), 403)
        return response

    def _preview_for(self, request):
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session:
            return None
        if not request.path.startswith(self.portal_prefix):
            return None
        real_user = request.user
        target = None
        if may_preview(real_user):
            from accounts.models import User

            target = User.objects.filter(pk=session[SESSION_KEY]).first()
        if target is None or not previewable(target):
            # The permission was withdrawn, or the user changed: the preview is over.
            del session[SESSION_KEY]
            return None
        return Preview(user=target, real_user=real_user)

    def process_exception(self, request, exception):
        """Refusals and "not found" inside a preview keep the banner (and say what happened)."""
        if getattr(request, "access_preview", None) is None:
            return None
        if isinstance(exception, PreviewIsReadOnly):
            # Rendered by __call__ once the transaction is rolled back (see the module doc).
            response = HttpResponseForbidden()
            response.preview_refused_write = True
            return response
        if isinstance(exception, Http404):
            return self._error(request, exception, 404)
        if isinstance(exception, PermissionDenied):
            return self._error(request, exception, 403)
        return None

    def _error(self, request, exception, status):
        response = TemplateResponse(
            request,
            ERROR_TEMPLATE,
            {
                "status": status,
                "read_only": isinstance(exception, PreviewIsReadOnly),
                "previewed": request.access_preview.user,
            },
            status=status,
        )
        return response.render()

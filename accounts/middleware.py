import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.utils import translation


class UserLanguageMiddleware:
    """Signed-in users see the site in the language stored on their account.

    Runs after AuthenticationMiddleware; LocaleMiddleware's choice (cookie, browser) still
    applies to anonymous pages such as the sign-in form. The language holds for this request
    only (`override`), so it never leaks into whatever the thread runs next.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None else ""
        if user is None or not user.is_authenticated or not language:
            return self.get_response(request)
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        # LocaleMiddleware runs outside this one and only sets the header when it is missing.
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


_SITE_POLICIES = {}  # "csp"/"csp_ro" -> (header value, excluded path prefixes); see below


def _forget_site_policies(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _SITE_POLICIES.clear()


setting_changed.connect(_forget_site_policies, dispatch_uid="accounts.middleware.csp")


def _site_policy(report_only):
    """The header django-csp builds from the settings alone, and the prefixes it skips."""
    key = "csp_ro" if report_only else "csp"
    policy = _SITE_POLICIES.get(key)
    if policy is None:
        setting = (
            "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
        )
        config = getattr(settings, setting, None) or {}
        policy = _SITE_POLICIES[key] = (
            build_policy(report_only=report_only),
            tuple(config.get("EXCLUDE_URL_PREFIXES", None) or ()),
        )
    return policy


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the site's own policy built once per process.

    django-csp builds the Content-Security-Policy header from the settings on every response.
    A response that brings no policy of its own (`@csp_update`, `@csp_replace`, `@csp`) to a
    request that used no nonce gets the same header every time, so that header is built once;
    every other response goes through django-csp unchanged.
    """

    _OWN_POLICY = (
        "_csp_config",
        "_csp_update",
        "_csp_replace",
        "_csp_config_ro",
        "_csp_update_ro",
        "_csp_replace_ro",
    )

    def process_response(self, request, response):
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(getattr(response, name, None) is not None for name in self._OWN_POLICY)
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        for header, report_only, exempt in (
            (HEADER, False, "_csp_exempt"),
            (HEADER_REPORT_ONLY, True, "_csp_exempt_ro"),
        ):
            policy, excluded = _site_policy(report_only)
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

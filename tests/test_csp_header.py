"""accounts.middleware.CSPMiddleware: django-csp's header, the site's policy built once.

Every case runs django-csp's middleware and ours on the same kind of request and response
and compares the headers.
"""

import pytest
from csp.constants import NONCE
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse, HttpResponseNotFound
from django.test import RequestFactory

from accounts.middleware import CSPMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _headers(middleware_class, path="/portal/", prepare=None, response_class=HttpResponse):
    request = RequestFactory().get(path)

    def view(request):
        response = response_class("page")
        if prepare is not None:
            prepare(request, response)
        return response

    response = middleware_class(view)(request)
    return {name: response.get(name) for name in HEADERS}, request


def _prepared(request, prepare):
    response = HttpResponse("page")
    prepare(request, response)
    return response


def _same(**kwargs):
    ours, _request = _headers(CSPMiddleware, **kwargs)
    theirs, _request = _headers(DjangoCSPMiddleware, **kwargs)
    assert ours == theirs
    return ours


def test_the_sites_policy_is_django_csps():
    headers = _same()
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Content-Security-Policy-Report-Only"] is None
    assert _same() == headers  # built once, then repeated


@pytest.mark.parametrize(
    "attribute, value",
    [
        ("_csp_update", {"img-src": ["https://img.example"]}),
        ("_csp_replace", {"script-src": ["'self'", "https://js.example"]}),
        ("_csp_config", {"default-src": ["'none'"]}),
        ("_csp_exempt", True),
    ],
)
def test_a_responses_own_policy_goes_through_django_csp(attribute, value):
    _same(prepare=lambda request, response: setattr(response, attribute, value))


def test_a_header_the_view_set_is_kept():
    def prepare(request, response):
        response["Content-Security-Policy"] = "default-src 'none'"

    assert _same(prepare=prepare)["Content-Security-Policy"] == "default-src 'none'"


def test_a_nonce_is_added_as_django_csp_adds_it(settings):
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'", NONCE]}
    }

    def prepare(request, response):
        response.nonce = str(request.csp_nonce)

    def header(middleware_class):
        request = RequestFactory().get("/portal/")
        response = middleware_class(lambda request: _prepared(request, prepare))(request)
        assert f"'nonce-{response.nonce}'" in response["Content-Security-Policy"]
        return response["Content-Security-Policy"].replace(response.nonce, "N")

    assert header(CSPMiddleware) == header(DjangoCSPMiddleware)


def test_a_changed_setting_is_followed(settings):
    settings.CONTENT_SECURITY_POLICY = {
        "EXCLUDE_URL_PREFIXES": ["/excluded/"],
        "DIRECTIVES": {"default-src": ["'self'"], "img-src": ["'self'", "data:"]},
    }
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "DIRECTIVES": {"default-src": ["'none'"], "report-uri": "/csp-report/"}
    }
    headers = _same()
    assert headers["Content-Security-Policy"] in (
        "default-src 'self'; img-src 'self' data:",
        "img-src 'self' data:; default-src 'self'",
    )
    assert "report-uri /csp-report/" in headers["Content-Security-Policy-Report-Only"]
    excluded = _same(path="/excluded/page/")
    assert excluded["Content-Security-Policy"] is None
    assert excluded["Content-Security-Policy-Report-Only"] is not None


@pytest.mark.parametrize("debug", [False, True])
def test_not_found_pages_as_django_csp(settings, debug):
    settings.DEBUG = debug
    headers = _same(response_class=HttpResponseNotFound)
    assert (headers["Content-Security-Policy"] is None) is debug


def test_a_nonce_asked_for_after_the_header_is_an_error():
    _headers_, request = _headers(CSPMiddleware)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)

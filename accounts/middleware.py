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

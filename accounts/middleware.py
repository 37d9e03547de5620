from django.utils import translation


class UserLanguageMiddleware:
    """Signed-in users see the site in the language stored on their account.

    Runs after AuthenticationMiddleware; LocaleMiddleware's choice (cookie, browser) still
    applies to anonymous pages such as the sign-in form.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None else ""
        if user is not None and user.is_authenticated and language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)

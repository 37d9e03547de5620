from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language


@login_not_required
@require_POST
def set_language(request):
    """Django's set_language, which also stores the choice on a signed-in user's account."""
    response = django_set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        get_user_model().objects.filter(pk=request.user.pk).update(language=language)
    return response

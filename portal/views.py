from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from access import policy


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Liveness and database readiness: 200 when the database answers, 503 when not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def home(request):
    """Send each user to the area it works in: portal, desk or administration."""
    user = request.user
    if policy.can_use_portal(user):
        return redirect("portal:dashboard")
    if policy.can_use_desk(user):
        return redirect("desk:queue")
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "no_area.html", status=403)

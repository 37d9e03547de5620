"""Saved queue filters: a desk user's own named views of the queue."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class SavedFilterQuerySet(models.QuerySet):
    def visible_to(self, user):
        from access import policy

        return policy.saved_filters_visible(self, user)


class SavedFilter(models.Model):
    """A named queue query string (`?queue=…&status=…`), normalised to the filter form's keys.

    Values are validated again each time the queue is shown, so a filter that names a status
    or address that no longer exists simply ignores that part.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="desk_saved_filters",
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("query"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = SavedFilterQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="desk_savedfilter_user_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        url = reverse("desk:queue")
        return f"{url}?{self.query}" if self.query else url

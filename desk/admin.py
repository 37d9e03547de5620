from django.contrib import admin

from .models import SavedFilter


@admin.register(SavedFilter)
class SavedFilterAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "query", "created_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__email", "user__last_name"]
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at"]

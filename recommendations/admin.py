from django.contrib import admin

from recommendations.models import ListeningEvent


@admin.register(ListeningEvent)
class ListeningEventAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "track", "position_ms", "occurred_at")
    list_filter = ("kind",)
    list_select_related = ("user",)
    raw_id_fields = ("user", "track")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

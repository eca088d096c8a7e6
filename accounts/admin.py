from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import PreferenceVersion, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "display_name", "is_staff", "date_joined")
    search_fields = ("email", "display_name")
    readonly_fields = ("public_id", "date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password", "public_id")}),
        ("Profile", {"fields": ("display_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(PreferenceVersion)
class PreferenceVersionAdmin(admin.ModelAdmin):
    list_display = ("user", "version", "created_at", "mode", "tempo_min", "tempo_max", "energy")
    list_select_related = ("user",)
    search_fields = ("user__email",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # versions are history: never edited

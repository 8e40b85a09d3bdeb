from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from leadbaton.accounts.models import ApiToken, RepProfile, Team, TimeOff, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "is_active", "managed"]
    list_filter = ["role", "is_active", "managed"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name", "role"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "managed"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "role", "password1", "password2"]})]


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


@admin.register(RepProfile)
class RepProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "time_zone", "routing_weight", "daily_cap", "open_ceiling", "paused"]
    list_filter = ["team", "paused"]
    readonly_fields = ["last_assigned_at", "assigned_on", "assigned_count", "rotation_turn", "rotation_credit"]
    inlines = [TimeOffInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "time_zone", "manager", "is_default", "active"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "digest", "created_at"]

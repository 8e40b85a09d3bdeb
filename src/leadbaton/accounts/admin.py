from django.contrib import admin

from leadbaton.accounts.models import ApiToken, Team

# Users and rep profiles are registered by leadbaton.web.admin: switching a rep off there must hand
# their leads back, a use case (pipeline.ownership) this layer cannot call.


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "time_zone", "manager", "is_default", "active"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "digest", "created_at"]

from django.contrib import admin

from leadbaton.routing.models import RoutingRule


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "team", "strategy", "active"]

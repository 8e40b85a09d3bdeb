from django.contrib import admin

from leadbaton.sla.models import SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "first_response_minutes", "attempts", "attempts_within_days", "progress_every_days", "business_hours"]

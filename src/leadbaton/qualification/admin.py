from django.contrib import admin

from leadbaton.qualification.models import LeadDefinition


@admin.register(LeadDefinition)
class LeadDefinitionAdmin(admin.ModelAdmin):
    list_display = ["version", "name", "threshold", "active", "created_at"]
    readonly_fields = ["version", "created_at"]

from django.contrib import admin

from leadbaton.leads.models import Handoff, Inquiry, Lead


class InquiryInline(admin.StackedInline):
    model = Inquiry
    extra = 0
    can_delete = False
    readonly_fields = [field.name for field in Inquiry._meta.fields]


class HandoffInline(admin.TabularInline):
    model = Handoff
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "from_kind", "from_team", "from_rep", "to_kind", "to_team", "to_rep", "reason", "note", "rule", "by_user")


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    """Read-only here: every change of a lead goes through the product's use cases and leaves a handoff."""

    list_display = ["__str__", "email", "company", "stage", "score", "owner_kind", "owner_team", "owner_rep", "received_at"]
    list_filter = ["stage", "owner_kind", "owner_team", "source_slug"]
    search_fields = ["email_key", "phone", "last_name", "company"]
    inlines = [InquiryInline, HandoffInline]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

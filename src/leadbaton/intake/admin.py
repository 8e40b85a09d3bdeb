from django.contrib import admin

from leadbaton.intake.models import Source, SourceKey, Submission


class SourceKeyInline(admin.TabularInline):
    model = SourceKey
    extra = 0
    fields = readonly_fields = ("prefix", "created_at", "revoked_at")
    can_delete = False


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "kind", "default_region", "active", "managed"]
    inlines = [SourceKeyInline]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """The submission log is a record of what arrived: it is read here, never edited."""

    list_display = ["id", "received_at", "source", "status", "http_status", "lead", "merged", "attempts"]
    list_filter = ["status", "source"]
    readonly_fields = ["body_text", *[field.name for field in Submission._meta.fields if field.name != "body"]]
    exclude = ["body"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

"""The admin of users and rep profiles: Django's own, except that switching a rep off goes through the use case.

A rep deactivated here (the change form's "Active" box, or the "Deactivate" action) or whose rep
profile is deleted here leaves no open lead behind: pipeline.ownership hands them back to the team's
queue with a handoff row naming who did it, in the admin's transaction.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from leadbaton.accounts.models import RepProfile, TimeOff, User
from leadbaton.core import clock
from leadbaton.pipeline.ownership import rep_deactivate, rep_profile_remove

DEACTIVATED_HERE = "deactivated in the admin"


def _staff(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


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
    actions = ["deactivate_selected"]

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool) -> None:
        """Saved as Django saves it; a user switched off here then has their open leads handed back (same transaction)."""
        switched_off = change and "is_active" in form.changed_data and not obj.is_active
        super().save_model(request, obj, form, change)
        if switched_off:
            rep_deactivate(rep=obj, by=_staff(request), why=DEACTIVATED_HERE, now=clock.now())

    @admin.action(description="Deactivate selected users (their open leads go back to their team's queue)", permissions=["change"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = returned = 0
        with transaction.atomic():
            for user in queryset.filter(is_active=True).order_by("pk"):
                returned += rep_deactivate(rep=user, by=_staff(request), why=DEACTIVATED_HERE, now=clock.now())
                users += 1
        self.message_user(
            request,
            f"Deactivated {users} user{'' if users == 1 else 's'}; "
            f"{returned} open lead{'' if returned == 1 else 's'} went back to their team's queue.",
            messages.SUCCESS,
        )


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


@admin.register(RepProfile)
class RepProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "time_zone", "routing_weight", "daily_cap", "open_ceiling", "paused"]
    list_filter = ["team", "paused"]
    readonly_fields = ["last_assigned_at", "assigned_on", "assigned_count", "rotation_turn", "rotation_credit"]
    inlines = [TimeOffInline]

    def delete_model(self, request: HttpRequest, obj: RepProfile) -> None:
        """The user is no longer a rep: their open leads go back to the profile's team queue first."""
        rep_profile_remove(profile=obj, by=_staff(request), now=clock.now())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RepProfile]) -> None:
        with transaction.atomic():
            for profile in queryset.select_related("user").order_by("pk"):
                rep_profile_remove(profile=profile, by=_staff(request), now=clock.now())

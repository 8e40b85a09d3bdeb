"""The users page (admins): everyone with an account, their role and team, adding someone (they are emailed the link
that sets their first password), changing a name or role, and switching an account off and on again. Every change
goes through pipeline.people; a refused value comes back next to its field with what was typed kept."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.tokens import default_token_generator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views import View

from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.core import clock
from leadbaton.core.refusals import Invalid, NotAllowed, NotFound, Refused
from leadbaton.pipeline.people import person_add, person_change, person_switch_off, person_switch_on
from leadbaton.web.views import errors_by_field, refused_page

FIELDS = ("email", "name", "role", "team")


def set_password_link(user: User) -> str:
    """The link that sets a password (as "Forgot your password?" sends), made from LEADBATON_BASE_URL."""
    path = reverse("password_reset_confirm", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                                                     "token": default_token_generator.make_token(user)})
    return settings.BASE_URL + path


class People(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        if (refused := _admins_only(request)) is not None:
            return refused
        return _list_page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        if (refused := _admins_only(request)) is not None:
            return refused
        posted = {name: request.POST.get(name, "") for name in FIELDS}
        try:
            user = person_add(by=cast(User, request.user), values={name: value.strip() or None for name, value in posted.items()},
                              link_for=set_password_link, now=clock.now())
        except Invalid as error:
            return _list_page(request, failed={"posted": posted, "problems": errors_by_field(error)}, status=400)
        except Refused as error:
            return refused_page(request, error, not_allowed="You cannot add people")
        messages.success(request, f"{user.display_name} is added as {Role(user.role).label.lower()}: an email with the link that sets "
                                  "their password is on its way.")
        return redirect("person", user.pk)


class PersonPage(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, user_id: int) -> HttpResponse:
        found = _person_for(request, user_id)
        return found if isinstance(found, HttpResponse) else _page(request, found)

    def post(self, request: HttpRequest, user_id: int) -> HttpResponse:
        found = _person_for(request, user_id)
        if isinstance(found, HttpResponse):
            return found
        posted = {name: request.POST.get(name, "") for name in ("name", "role", "team")}
        try:
            user, changed = person_change(by=cast(User, request.user), user_id=user_id,
                                          values={name: value.strip() or None for name, value in posted.items()}, now=clock.now())
        except Invalid as error:
            return _page(request, found, failed={"form": "person", "posted": posted, "problems": errors_by_field(error)}, status=400)
        except Refused as error:
            return refused_page(request, error, not_allowed="You cannot change this person")
        messages.success(request, "Saved." if changed else "Nothing changed.")
        return redirect("person", user.pk)


class PersonDeactivate(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, user_id: int) -> HttpResponse:
        found = _person_for(request, user_id)
        if isinstance(found, HttpResponse):
            return found
        reason = request.POST.get("reason", "")
        try:
            user, returned = person_switch_off(by=cast(User, request.user), user_id=user_id, why=reason, now=clock.now())
        except Invalid as error:
            return _page(request, found, failed={"form": "deactivate", "posted": {"reason": reason}, "problems": errors_by_field(error)}, status=400)
        except Refused as error:
            return refused_page(request, error, not_allowed="You cannot switch this account off")
        went = f" {returned} open lead{'s' if returned != 1 else ''} went back to the team's queue." if returned else ""
        messages.success(request, f"{user.display_name} can no longer sign in.{went}")
        return redirect("person", user.pk)


class PersonActivate(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, user_id: int) -> HttpResponse:
        found = _person_for(request, user_id)
        if isinstance(found, HttpResponse):
            return found
        try:
            user = person_switch_on(by=cast(User, request.user), user_id=user_id, now=clock.now())
        except Refused as error:
            return refused_page(request, error, not_allowed="You cannot switch this account on")
        messages.success(request, f"{user.display_name} can sign in again.")
        return redirect("person", user.pk)


def _admins_only(request: HttpRequest) -> HttpResponse | None:
    user = cast(User, request.user)
    if user.is_superuser or user.role == Role.ADMIN:
        return None
    return refused_page(request, NotAllowed.one("role", "people and their roles are for admins"), not_allowed="You cannot change people")


def _person_for(request: HttpRequest, user_id: int) -> User | HttpResponse:
    if (refused := _admins_only(request)) is not None:
        return refused
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return refused_page(request, NotFound.one("user_id", f"there is no user {user_id}"))
    return user


def _teams() -> list[Team]:
    return list(Team.objects.filter(active=True).order_by("name"))


def _list_page(request: HttpRequest, *, failed: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    """Everyone, active first, narrowed by `q` (every word in the name or email) and `role`; an unknown role: 400 naming it."""
    query, role = request.GET.get("q", "").strip(), request.GET.get("role", "")
    errors = []
    if role and role not in Role.values:
        errors.append({"field": "role", "message": f"{role[:40]!r} is not a role; use one of {', '.join(Role.values)}"})
        role = ""
    rows = User.objects.order_by("-is_active", "name", "email")
    for word in query.split()[:8]:
        rows = rows.filter(Q(name__icontains=word) | Q(email__icontains=word))
    if role:
        rows = rows.filter(role=role)
    teams = dict(RepProfile.objects.values_list("user_id", "team__name"))
    people = [{"user": user, "team": teams.get(user.pk, "")} for user in rows]
    failed = failed or {"posted": {"role": Role.REP}, "problems": {}}
    context = {"people": people, "roles": Role.choices, "teams": _teams(), "failed": failed, "query": query, "role": role,
               "errors": errors, "narrowed": bool(query or role)}
    return render(request, "web/people.html", context, status=400 if errors and status == 200 else status)


def _page(request: HttpRequest, user: User, *, failed: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    profile = RepProfile.objects.select_related("team").filter(user=user).first()
    shown = {"name": user.name, "role": user.role, "team": profile.team.slug if profile else ""}
    failed = failed or {"form": "", "posted": {}, "problems": {}}
    if failed["form"] == "person":
        shown.update(failed["posted"])
    context = {"person": user, "profile": profile, "shown": shown, "failed": failed, "roles": Role.choices, "teams": _teams(),
               "itself": user.pk == request.user.pk}
    return render(request, "web/person.html", context, status=status)

"""The settings pages: what managers set for their teams and admins for everything.

A rep's page sets their team, working hours, time zone, holiday country, routing weight and caps, their time
off, and switches them off when they leave (their open leads go back to the queue) and on again. Every change
goes through the use case (pipeline.reps) with the organisation file's own reader of values, so a refused value
is said next to its field in the words the file would get, with what was typed kept.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import yaml
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from leadbaton.accounts.models import RepProfile, Team, User
from leadbaton.core import clock
from leadbaton.core.conditions import LEAD_FIELDS, OPERATORS
from leadbaton.core.refusals import Conflict, Invalid, NotAllowed, NotFound, Refused
from leadbaton.core.values import hours_lines
from leadbaton.intake.models import Source, SourceKey, Submission
from leadbaton.intake.services import MANUAL_SOURCE, IssuedKey
from leadbaton.leads.models import OPEN_STAGES, Lead, OwnerKind
from leadbaton.notify.models import ChatTarget
from leadbaton.organisation.file import OrgFileError, routing_parse, routing_read
from leadbaton.pipeline.chat import chat_target_add, chat_target_remove
from leadbaton.pipeline.followup import viewer_of
from leadbaton.pipeline.ownership import may_manage
from leadbaton.pipeline.preview import routing_preview
from leadbaton.pipeline.reps import (
    rep_settings_change,
    rep_switch_off,
    rep_switch_on,
    rep_time_off_add,
    rep_time_off_remove,
    time_off_ahead,
)
from leadbaton.pipeline.rules import may_save_rules, rules_save
from leadbaton.pipeline.sources import KEYLESS, SOURCE_KEYS, source_add, source_key_new, source_key_revoke
from leadbaton.pipeline.teams import policy_change, policy_drop, team_add, team_settings_change, team_switch
from leadbaton.routing.models import RoutingRule, Strategy
from leadbaton.routing.queries import rules_active
from leadbaton.routing.services import RulesInvalid, rules_check
from leadbaton.sla.models import Clock, SlaPolicy
from leadbaton.sla.services import STEP_ACTIONS, escalation_of, escalation_text, policy_for
from leadbaton.web.board import teams_run_by
from leadbaton.web.rule_builder import (
    OPERATOR_LABELS,
    Read,
    RowsUnread,
    RuleRow,
    fits,
    place_problems,
    rows_of,
    rows_posted,
    rules_from,
)
from leadbaton.web.views import errors_by_field, refused_page

REP_FIELDS = ("team", "time_zone", "country", "hours", "weight", "daily_cap", "max_open")
WHOLE_FIELDS = ("weight", "daily_cap", "max_open")


class SettingsHome(LoginRequiredMixin, View):
    """GET: the teams one runs, each with its reps as routing is told about them (each rep opens their settings), and
    the settings only admins change; POST (admins): add a team."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return _home(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        posted = {name: request.POST.get(name, "") for name in ("slug", "name", "time_zone", "manager")}
        try:
            team = team_add(by=cast(User, request.user), values={name: value.strip() or None for name, value in posted.items()},
                            now=clock.now())
        except Invalid as refused:
            return _home(request, failed={"posted": posted, "problems": errors_by_field(refused)}, status=400)
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot add teams")
        messages.success(request, f"{team.name} is added. Send it leads with a routing rule, or make it the default team.")
        return redirect("team_settings", team.slug)


def _home(request: HttpRequest, *, failed: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    user = cast(User, request.user)
    runs = teams_run_by(viewer_of(user))
    if not runs and not _is_admin(user):
        return _not_for_you(request)
    reps = RepProfile.objects.select_related("user").filter(team__in=runs).order_by("user__name", "user__email")
    by_team: dict[int, list[dict[str, Any]]] = {team.pk: [] for team in runs}
    for profile in reps:
        by_team[profile.team_id].append({"profile": profile, "hours": "; ".join(hours_lines(profile.hours)) or "no working hours"})
    switched_off = list(Team.objects.filter(active=False).order_by("name")) if _is_admin(user) else []
    context = {"teams": [(team, by_team[team.pk]) for team in runs], "failed": failed or {"posted": {}, "problems": {}},
               "switched_off": switched_off,
               "managers": User.objects.filter(is_active=True, role__in=("manager", "admin")).order_by("name", "email")}
    return render(request, "web/settings.html", context, status=status)


class RepSettings(LoginRequiredMixin, View):
    """GET shows a rep's settings; POST saves the settings form (the other forms post to their own addresses)."""

    def get(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        found = _rep_for(request, rep_id)
        if isinstance(found, HttpResponse):
            return found
        return _rep_page(request, found)

    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        posted = {name: request.POST.get(name, "") for name in REP_FIELDS}
        try:
            profile, changed = rep_settings_change(rep_id=rep_id, by=cast(User, request.user), values=_read(posted), now=clock.now())
        except Invalid as refused:
            found = _rep_for(request, rep_id)
            if isinstance(found, HttpResponse):
                return found
            return _rep_page(request, found, failed={"form": "settings", "posted": posted, "problems": errors_by_field(refused)}, status=400)
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot change this rep")
        said = f"Saved {profile.user.display_name}'s settings." if changed else "Nothing changed."
        messages.success(request, said)
        return redirect("rep_settings", rep_id)


class RepAction(LoginRequiredMixin, View):
    """A form of a rep's settings page other than the settings themselves: POST only; a refusal comes back on the page."""

    http_method_names = ["post"]
    form = ""

    def refused(self, request: HttpRequest, rep_id: int, refused: Refused, posted: dict[str, str]) -> HttpResponse:
        if not isinstance(refused, Invalid):
            return refused_page(request, refused, not_allowed="You cannot change this rep")
        found = _rep_for(request, rep_id)
        if isinstance(found, HttpResponse):
            return found
        return _rep_page(request, found, failed={"form": self.form, "posted": posted, "problems": errors_by_field(refused)}, status=400)


class RepTimeOffAdd(RepAction):
    form = "time_off"

    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        posted = {name: request.POST.get(name, "") for name in ("from", "to", "reason")}
        values = {name: value.strip() or None for name, value in posted.items()}
        try:
            period = rep_time_off_add(rep_id=rep_id, by=cast(User, request.user), values=values, now=clock.now())
        except Refused as refused:
            return self.refused(request, rep_id, refused, posted)
        days = (period.ends_on - period.starts_on).days + 1
        messages.success(request, f"Time off added: {period.starts_on:%d %b %Y} to {period.ends_on:%d %b %Y} ({days} day{'s' if days > 1 else ''}).")
        return redirect("rep_settings", rep_id)


class RepTimeOffRemove(RepAction):
    def post(self, request: HttpRequest, rep_id: int, period_id: int) -> HttpResponse:
        try:
            rep_time_off_remove(rep_id=rep_id, by=cast(User, request.user), period_id=period_id, now=clock.now())
        except Refused as refused:
            return self.refused(request, rep_id, refused, {})
        messages.success(request, "Time off removed.")
        return redirect("rep_settings", rep_id)


class RepDeactivate(RepAction):
    form = "deactivate"

    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        posted = {"reason": request.POST.get("reason", "")}
        try:
            profile, returned = rep_switch_off(rep_id=rep_id, by=cast(User, request.user), why=posted["reason"], now=clock.now())
        except Refused as refused:
            return self.refused(request, rep_id, refused, posted)
        went = f"{returned} open lead{'s' if returned != 1 else ''} went back to the {profile.team.name} queue."
        messages.success(request, f"{profile.user.display_name} is deactivated: they can no longer sign in. {went}")
        return redirect("rep_settings", rep_id)


class RepActivate(RepAction):
    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        try:
            profile = rep_switch_on(rep_id=rep_id, by=cast(User, request.user), now=clock.now())
        except Refused as refused:
            return self.refused(request, rep_id, refused, {})
        messages.success(request, f"{profile.user.display_name} is active again: they can sign in and get new leads.")
        return redirect("rep_settings", rep_id)


def _rep_for(request: HttpRequest, rep_id: int) -> RepProfile | HttpResponse:
    """The rep whose settings the signed-in person may see, or the page that says why not (another team's reps as no rep)."""
    user = cast(User, request.user)
    if not (user.is_superuser or user.role in ("admin", "manager")):
        return _not_for_you(request)
    profile = RepProfile.objects.select_related("user", "team").filter(user_id=rep_id).first()
    if profile is None or not may_manage(user, [profile.team]):
        mine = "" if user.is_superuser or user.role == "admin" else " of a team you manage"
        return refused_page(request, NotFound.one("rep_id", f"there is no rep {rep_id}{mine}"))
    return profile


def _rep_page(request: HttpRequest, profile: RepProfile, *, failed: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    user = cast(User, request.user)
    failed = failed or {"form": "", "posted": {}, "problems": {}}
    shown = {
        "team": profile.team.slug, "time_zone": profile.time_zone, "country": profile.country,
        "hours": "\n".join(hours_lines(profile.hours)), "weight": str(profile.routing_weight),
        "daily_cap": "" if profile.daily_cap is None else str(profile.daily_cap),
        "max_open": "" if profile.open_ceiling is None else str(profile.open_ceiling),
    }
    teams = teams_run_by(viewer_of(user))
    if profile.team not in teams:
        teams = [profile.team, *teams]
    if failed["form"] == "settings":
        shown.update(failed["posted"])
        if shown["team"] not in {team.slug for team in teams}:  # a team refused: the list shows the rep's own, not the first
            shown["team"] = profile.team.slug
    today = clock.now().astimezone(ZoneInfo(profile.time_zone)).date()
    context = {
        "profile": profile, "rep": profile.user, "shown": shown, "failed": failed,
        "teams": teams,
        "time_off": time_off_ahead(profile, today),
        "open_leads": Lead.objects.filter(owner_kind=OwnerKind.REP, owner_rep_id=profile.user_id, stage__in=OPEN_STAGES).count(),
        "chat": _chat_of(rep_id=profile.user_id),
    }
    return render(request, "web/rep_settings.html", context, status=status)


def _read(posted: dict[str, str]) -> dict[str, Any]:
    """Form text as the values the file would hold: whole numbers as numbers, hours as lines, an empty cap as none."""
    values: dict[str, Any] = {name: value.strip() for name, value in posted.items()}
    values.update({name: _whole(values[name]) for name in WHOLE_FIELDS})
    values["hours"] = [line.strip() for line in posted["hours"].splitlines() if line.strip()] or None
    return values


def _not_for_you(request: HttpRequest) -> HttpResponse:
    refused = NotAllowed.one("role", "settings are for managers (their teams) and admins")
    return refused_page(request, refused, not_allowed="You cannot change settings")



# The routing rules: in order, each as the organisation file writes it, with a preview of where a sample lead goes.

SAMPLE_FIELDS = (
    ("email", "Email"), ("phone", "Phone"), ("first_name", "First name"), ("last_name", "Last name"), ("company", "Company"),
    ("title", "Title"), ("country", "Country"), ("region", "Region"), ("city", "City"), ("company_size", "Company size"),
    ("product_interest", "Product interest"), ("campaign", "Campaign"), ("utm_source", "utm_source"), ("utm_medium", "utm_medium"),
    ("utm_campaign", "utm_campaign"), ("message", "Message"),
)
SAMPLE_START = {"email": "dana@northwind.example", "country": "DE", "company_size": "250"}
RULES_HINT = "write [] to switch every rule off (leads then go to the default team)"
RULES_SAVERS = ("an admin or a manager of every team saves the rules: each rule's place decides which leads the teams after it get; "
                "a preview is yours to try")


class RoutingSettings(LoginRequiredMixin, View):
    """GET shows the rules, in the rule builder's rows or (`?editor=yaml`) as the organisation file's YAML; POST with
    `action=preview` shows where the sample would go under the rules as typed (saving nothing), with `action=save`
    replaces the rules with them (admins and managers of every team). Both editors' rules are checked by the same code."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = cast(User, request.user)
        if not _may_see_rules(user):
            return _not_for_you(request)
        rules = rules_active()
        editor = "yaml" if request.GET.get("editor") == "yaml" or not fits(rules) else "rows"
        return _rules_page(request, user, editor=editor, rules_text=_rules_yaml(rules), rows=rows_of(rules), sample=dict(SAMPLE_START), source="")

    def post(self, request: HttpRequest) -> HttpResponse:
        user = cast(User, request.user)
        if not _may_see_rules(user):
            return _not_for_you(request)
        editor = "rows" if request.POST.get("editor") == "rows" else "yaml"
        text = request.POST.get("rules", "")
        sample = {name: request.POST.get(name, "").strip() for name, _ in SAMPLE_FIELDS}
        source = request.POST.get("source", "")
        try:
            rows = rows_posted(request.POST) if editor == "rows" else []
        except RowsUnread as unread:  # not the page's form: read in part, it could drop rules; nothing is tried
            return _rules_page(request, user, editor=editor, rules_text="", rows=[], sample=sample, source=source,
                               rule_errors=[{"field": "rules", "message": str(unread)}], status=400)
        page: dict[str, Any] = {"editor": editor, "rules_text": text, "rows": rows, "sample": sample, "source": source}
        saving = request.POST.get("action") == "save"
        if saving and not may_save_rules(user):  # before reading: what they typed stays on the page with why
            refused_errors = [{"field": "rules", "message": f"not saved: {RULES_SAVERS}"}]
            return _rules_page(request, user, **page, rule_errors=refused_errors, status=403)
        read = rules_from(rows) if editor == "rows" else None
        rules, problems = _rules_of_rows(read) if read is not None else _rules_read(text)
        refused_rows = read is not None and read.problems > 0  # a row said what is wrong with it already
        if saving and not problems and not refused_rows:
            try:
                saved = rules_save(by=user, rules=rules)
            except Refused as refused:
                status = 409 if isinstance(refused, Conflict) else 403 if isinstance(refused, NotAllowed) else 400
                return _rules_page(request, user, **page, rule_errors=_placed(read, refused.errors), status=status)
            messages.success(request, f"Saved: {len(saved)} rule{'s' if len(saved) != 1 else ''}, tried in this order.")
            return redirect(f"{reverse('routing_settings')}{'?editor=yaml' if editor == 'yaml' else ''}")
        draft = None
        if not problems and not refused_rows:
            try:
                draft = rules_check(rules=rules)
            except RulesInvalid as error:
                problems = [{"field": path, "message": message} for path, message in error.problems]
        if problems or refused_rows:
            return _rules_page(request, user, **page, rule_errors=_placed(read, problems), status=400)
        values = {name: value for name, value in sample.items() if value}
        try:
            preview = routing_preview(sample=values, source_slug=source or MANUAL_SOURCE, by=user, now=clock.now(), draft=draft)
        except Invalid as refused:
            return _rules_page(request, user, **page, sample_errors=errors_by_field(refused), status=400)
        return _rules_page(request, user, **page, preview=preview)


def _may_see_rules(user: User) -> bool:
    return user.is_superuser or user.role in ("admin", "manager")


def _rules_of_rows(read: Read) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The rule builder's rules, checked as the organisation file checks its routing section; else the problems, by path.
    A row that could not be read (no name or team, a place that is not a number) has its problem already, and is not tried."""
    try:
        rules = routing_read(read.rules)
    except OrgFileError as error:  # with the rows' own problems, if any: every problem at once
        return [], [{"field": field, "message": message} for field, _, message in (problem.partition(": ") for problem in error.errors)]
    return ([], []) if read.problems else (rules, [])


def _placed(read: Read | None, problems: list[dict[str, str]]) -> list[dict[str, str]]:
    """The problems to list above the editor: all of them for the YAML; for the builder, those no row is named by (the
    others stand next to their rule), after a line saying that nothing was saved."""
    if read is None:
        return problems
    left = place_problems(read, problems)
    if len(left) < len(problems) or read.problems:
        left.insert(0, {"field": "rules", "message": "see the problems next to the rules below"})
    return left


def _rules_page(request: HttpRequest, user: User, *, editor: str, rules_text: str, rows: list[RuleRow], sample: dict[str, str], source: str,
                status: int = 200, **shown: Any) -> HttpResponse:
    rules = rules_active()
    teams = list(Team.objects.filter(active=True).order_by("name"))
    if not fits(rules):
        shown.setdefault("too_many", f"These {len(rules)} rules are more than the rule-by-rule editor carries; edit them as the file writes them.")
        if editor == "rows":
            editor, rules_text = "yaml", rules_text or _rules_yaml(rules)
    if editor == "rows" and not rows:
        rows = rows_of(rules)
    context = {
        "rules": [{"rule": rule, "when": [_condition_text(condition) for condition in rule.conditions]} for rule in rules],
        "default_team": next((team for team in teams if team.is_default), None),
        "may_save": may_save_rules(user), "editor": editor, "rules_text": rules_text, "rows": rows, "teams": teams,
        "sources": Source.objects.filter(active=True).order_by("name"),
        "source": source, "sample_fields": [(name, label, sample.get(name, "")) for name, label in SAMPLE_FIELDS],
        "strategies": Strategy.choices, "fields": sorted(LEAD_FIELDS), "operators": OPERATORS, "operator_labels": OPERATOR_LABELS,
        "rules_hint": RULES_HINT, "savers": RULES_SAVERS, **shown,
    }
    return render(request, "web/routing_settings.html", context, status=status)


def _rules_yaml(rules: list[RoutingRule]) -> str:
    """The rules as the organisation file's `routing:` section writes them; a rule of a switched-off team is left out
    (it routes nothing, and saving it again would be refused)."""
    written = [{"name": rule.name, **({"when": [_condition_written(condition) for condition in rule.conditions]} if rule.conditions else {}),
                "team": rule.team.slug, "strategy": rule.strategy} for rule in rules if rule.team.active]
    return yaml.safe_dump(written, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100) if written else "[]\n"


def _condition_written(condition: dict[str, Any]) -> dict[str, Any]:
    """A stored condition with its field first, as people write it (PostgreSQL's jsonb keeps keys in an order of its own)."""
    return {"field": condition.get("field"), **{key: value for key, value in condition.items() if key != "field"}}


def _rules_read(text: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The rules typed on the page, read as the organisation file reads its routing section; else the problems, by path."""
    try:
        return routing_parse(text), []
    except OrgFileError as error:
        return [], [{"field": field, "message": message} for field, _, message in (problem.partition(": ") for problem in error.errors)]


def _condition_text(condition: dict[str, Any]) -> str:
    """A stored condition in words: "country in US, CA", "company_size at least 50", "fields.budget is set"."""
    field_name = condition.get("field", "")
    operator = next((name for name in OPERATORS if name in condition), "")
    value = condition.get(operator)
    if operator == "is_set":
        return f"{field_name} is {'set' if value else 'not set'}"
    shown = ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)
    return f"{field_name} {operator.replace('_', ' ')} {shown}"


# Sources and their API keys: admins only. A key is shown once, on the page that answers the form that made it.


class Sources(LoginRequiredMixin, View):
    """GET lists the sources with their keys; POST adds a source and shows its first key once."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not _is_admin(cast(User, request.user)):
            return _admins_only(request)
        return _sources_page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        posted = {name: request.POST.get(name, "") for name in SOURCE_KEYS}
        try:
            issued = source_add(by=cast(User, request.user), values={name: value.strip() or None for name, value in posted.items()},
                                now=clock.now())
        except Invalid as refused:
            return _sources_page(request, failed={"posted": posted, "problems": errors_by_field(refused)}, status=400)
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot change sources")
        return _sources_page(request, issued=issued)


class SourceKeyNew(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        try:
            issued = source_key_new(by=cast(User, request.user), slug=slug, now=clock.now())
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot change sources")
        return _sources_page(request, issued=issued)


class SourceKeyRevoke(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str, key_id: int) -> HttpResponse:
        try:
            key = source_key_revoke(by=cast(User, request.user), slug=slug, key_id=key_id, now=clock.now())
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot change sources")
        messages.success(request, f"Key {key.prefix}… of {key.source.name} is revoked: requests with it are refused from now on.")
        return redirect("sources")


def _sources_page(request: HttpRequest, *, issued: IssuedKey | None = None, failed: dict[str, Any] | None = None,
                  status: int = 200) -> HttpResponse:
    week_ago = clock.now() - timedelta(days=7)
    counts = dict(Submission.objects.filter(received_at__gte=week_ago).values("source_id").annotate(n=Count("id")).values_list("source_id", "n"))
    keys: dict[int, list[SourceKey]] = {}
    for key in SourceKey.objects.filter(revoked_at__isnull=True).order_by("created_at", "pk"):
        keys.setdefault(key.source_id, []).append(key)
    rows = [{"source": source, "keys": keys.get(source.pk, []), "week": counts.get(source.pk, 0), "keyless": source.kind in KEYLESS}
            for source in Source.objects.order_by("-active", "name")]
    context = {"rows": rows, "issued": issued, "failed": failed or {"posted": {"kind": "api"}, "problems": {}},
               "kinds": [(value, label) for value, label in Source.Kind.choices if value not in KEYLESS]}
    return render(request, "web/sources.html", context, status=status)


def _is_admin(user: User) -> bool:
    return user.is_superuser or user.role == "admin"


def _admins_only(request: HttpRequest) -> HttpResponse:
    return refused_page(request, NotAllowed.one("role", "these settings are for admins"), not_allowed="You cannot change these settings")


# A team's settings and the service levels (the organisation's, or a team's own).

TEAM_FIELDS = ("name", "time_zone", "overflow_nurture_below")
POLICY_NUMBERS = ("first_response_minutes", "attempts", "attempts_within_days", "progress_every_days", "remind_before_minutes")
POLICY_FLAGS = ("business_hours", "business_days")


class TeamSettings(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        found = _team_for(request, slug)
        return found if isinstance(found, HttpResponse) else _team_page(request, found)

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        user = cast(User, request.user)
        names = (*TEAM_FIELDS, *(("manager",) if _is_admin(user) else ()))
        posted = {name: request.POST.get(name, "") for name in names}
        values: dict[str, Any] = {name: value.strip() or None for name, value in posted.items()}
        if "overflow_nurture_below" in values:
            values["overflow_nurture_below"] = _whole(posted["overflow_nurture_below"])
        if _is_admin(user):
            values["default"] = request.POST.get("default") == "on"
            posted["default"] = "on" if values["default"] else ""
        try:
            team, changed = team_settings_change(slug=slug, by=user, values=values, now=clock.now())
        except Invalid as refused:
            found = _team_for(request, slug)
            if isinstance(found, HttpResponse):
                return found
            return _team_page(request, found, failed={"posted": posted, "problems": errors_by_field(refused)}, status=400)
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot change this team")
        messages.success(request, f"Saved {team.name}." if changed else "Nothing changed.")
        return redirect("team_settings", team.slug)


class TeamSwitch(LoginRequiredMixin, View):
    """Switch a team off (`on` absent) or on again (`on` = "yes"): admins."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        on = request.POST.get("on") == "yes"
        try:
            team, changed = team_switch(slug=slug, by=cast(User, request.user), on=on, now=clock.now())
        except Invalid as refused:
            found = _team_for(request, slug)
            if isinstance(found, HttpResponse):
                return found
            return _team_page(request, found, switch_problems=[message for said in errors_by_field(refused).values() for message in said],
                              status=400)
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot switch this team on or off")
        if changed:
            messages.success(request, f"{team.name} is switched on: routing rules and reps can name it again." if on
                             else f"{team.name} is switched off: no rule or rep can name it until it is switched on again.")
        else:
            messages.success(request, "Nothing changed.")
        return redirect("team_settings", team.slug)


class PolicySettings(LoginRequiredMixin, View):
    """The service levels of `scope`: `default` (the organisation's) or a team's slug (its own)."""

    def get(self, request: HttpRequest, scope: str) -> HttpResponse:
        found = _policy_for(request, scope)
        return found if isinstance(found, HttpResponse) else _policy_page(request, scope, *found)

    def post(self, request: HttpRequest, scope: str) -> HttpResponse:
        found = _policy_for(request, scope)  # another team's are no team's, as on the page itself
        if isinstance(found, HttpResponse):
            return found
        posted = {name: request.POST.get(name, "") for name in (*POLICY_NUMBERS, *(f"escalation_{kind}" for kind in Clock.values))}
        values: dict[str, Any] = {name: _whole(posted[name]) for name in POLICY_NUMBERS}
        values.update({name: request.POST.get(name) == "on" for name in POLICY_FLAGS})
        values["escalation"] = {kind: [line.strip() for line in posted[f"escalation_{kind}"].splitlines() if line.strip()]
                                for kind in Clock.values}
        try:
            policy = policy_change(scope=scope, by=cast(User, request.user), values=values, now=clock.now())
        except Invalid as refused:
            flags = {name: request.POST.get(name) == "on" for name in POLICY_FLAGS}
            return _policy_page(request, scope, *found, failed={"posted": {**posted, **flags}, "problems": errors_by_field(refused)}, status=400)
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot change these service levels")
        whose = f"the {policy.team.name} team's" if policy.team else "the organisation's"
        messages.success(request, f"Saved: clocks started from now on run to {whose} service levels.")
        return redirect("policy_settings", scope)


class PolicyDrop(LoginRequiredMixin, View):
    """The team follows the organisation's service levels again (its own switched off)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, scope: str) -> HttpResponse:
        found = _policy_for(request, scope)  # another team's are no team's, as on the page itself
        if isinstance(found, HttpResponse):
            return found
        try:
            team = policy_drop(scope=scope, by=cast(User, request.user), now=clock.now())
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot change these service levels")
        messages.success(request, f"{team.name} follows the organisation's service levels: clocks started from now on run to them.")
        return redirect("policy_settings", scope)


def _whole(text: str) -> Any:
    """Form text as the number the reader checks: digits as a number, empty as none, anything else as the text itself
    (a number too long to be one stays text, refused as such: int() of thousands of digits would raise)."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 30 else (text or None)


def _team_for(request: HttpRequest, slug: str) -> Team | HttpResponse:
    user = cast(User, request.user)
    if not (user.is_superuser or user.role in ("admin", "manager")):
        return _not_for_you(request)
    team = Team.objects.select_related("manager").filter(slug=slug).first()
    if team is None or not may_manage(user, [team]):
        return refused_page(request, NotFound.one("slug", f"there is no team {slug[:60]!r}{'' if _is_admin(user) else ' you manage'}"))
    return team


def _team_page(request: HttpRequest, team: Team, *, failed: dict[str, Any] | None = None, chat_failed: dict[str, Any] | None = None,
               switch_problems: list[str] | None = None, status: int = 200) -> HttpResponse:
    shown = {"name": team.name, "time_zone": team.time_zone,
             "overflow_nurture_below": "" if team.overflow_nurture_below is None else str(team.overflow_nurture_below),
             "manager": team.manager.email if team.manager else "", "default": "on" if team.is_default else ""}
    if failed:
        shown.update(failed["posted"])
    managers = User.objects.filter(is_active=True, role__in=("manager", "admin")).order_by("name", "email")
    context = {"team": team, "shown": shown, "problems": (failed or {}).get("problems", {}), "managers": managers,
               "admin": _is_admin(cast(User, request.user)), "own_policy": SlaPolicy.objects.filter(team=team, active=True).exists(),
               "chat": _chat_of(team_id=team.pk), "chat_failed": chat_failed or {"url": "", "problems": {}},
               "switch_problems": switch_problems or []}
    return render(request, "web/team_settings.html", context, status=status)


def _policy_for(request: HttpRequest, scope: str) -> tuple[Team | None, SlaPolicy] | HttpResponse:
    user = cast(User, request.user)
    if scope == "default":
        if not _is_admin(user):
            refused = NotAllowed.one("role", "only an admin sets the organisation's service levels; a manager sets their own team's")
            return refused_page(request, refused, not_allowed="You cannot change these service levels")
        return None, policy_for(None)
    found = _team_for(request, scope)
    if isinstance(found, HttpResponse):
        return found
    if not found.active:  # as saving answers: a switched-off team has no service levels to set
        return refused_page(request, NotFound.one("scope", f"{scope[:60]!r} is neither default nor the slug of an active team"))
    return found, policy_for(found.pk)


def _policy_page(request: HttpRequest, scope: str, team: Team | None, policy: SlaPolicy, *, failed: dict[str, Any] | None = None,
                 status: int = 200) -> HttpResponse:
    shown: dict[str, Any] = {name: str(getattr(policy, name)) for name in POLICY_NUMBERS}
    shown.update({name: getattr(policy, name) for name in POLICY_FLAGS})
    shown.update({f"escalation_{kind}": "\n".join(escalation_text(escalation_of(policy, kind))) for kind in Clock.values})
    if failed:
        shown.update(failed["posted"])
    problems = (failed or {}).get("problems", {})
    escalations = [(kind, label, shown[f"escalation_{kind}"], [message for field, said in problems.items()
                                                               if field.startswith(f"escalation.{kind}") for message in said])
                   for kind, label in Clock.choices]
    context = {"scope": scope, "team": team, "policy": policy, "shown": shown, "problems": problems, "escalations": escalations,
               "own": policy.team_id is not None or team is None, "actions": ", ".join(STEP_ACTIONS)}
    return render(request, "web/policy_settings.html", context, status=status)


# Chat targets of a team or a rep, on their settings pages.


class TeamChatAdd(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        url = request.POST.get("url", "")
        try:
            chat_target_add(by=cast(User, request.user), url=url, team_slug=slug, now=clock.now())
        except Invalid as refused:
            found = _team_for(request, slug)
            if isinstance(found, HttpResponse):
                return found
            return _team_page(request, found, chat_failed={"url": "", "problems": _chat_problems(refused)}, status=400)
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot change this team")
        messages.success(request, "Chat target added: the team's news goes there too.")
        return redirect("team_settings", slug)


class RepChatAdd(RepAction):
    form = "chat"

    def post(self, request: HttpRequest, rep_id: int) -> HttpResponse:
        url = request.POST.get("url", "")
        try:
            chat_target_add(by=cast(User, request.user), url=url, rep_id=rep_id, now=clock.now())
        except Invalid as refused:
            return self.refused(request, rep_id, Invalid([{"field": "url", "message": message}
                                                          for message in _chat_problems(refused).get("url", [])]), {"url": ""})
        except Refused as refused:
            return self.refused(request, rep_id, refused, {"url": ""})
        messages.success(request, "Chat target added: the rep's news goes there too.")
        return redirect("rep_settings", rep_id)


class ChatRemove(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, target_id: int) -> HttpResponse:
        try:
            target = chat_target_remove(by=cast(User, request.user), target_id=target_id, now=clock.now())
        except Refused as refused:
            return refused_page(request, refused, not_allowed="You cannot change chat targets")
        messages.success(request, f"Nothing more goes to {target.label}.")
        if target.rep_id is not None:
            return redirect("rep_settings", target.rep_id)
        return redirect("team_settings", target.team.slug if target.team else "")


def _chat_problems(refused: Refused) -> dict[str, list[str]]:
    """What was wrong with a chat URL; the URL itself is not shown again (it may hold a token)."""
    problems = errors_by_field(refused)
    problems.setdefault("url", []).append("It was not kept here, as it may hold a token: paste it again.")
    return problems


def _chat_of(*, team_id: int | None = None, rep_id: int | None = None) -> list[ChatTarget]:
    rows = ChatTarget.objects.filter(active=True)
    rows = rows.filter(team_id=team_id) if team_id is not None else rows.filter(rep_id=rep_id)
    return list(rows.order_by("id"))

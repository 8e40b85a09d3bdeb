"""Who may call what: every route the server has, called by every kind of caller, against the table in docs/api.md.

The routes come from Django's URL resolver and the API's OpenAPI document, the expectations from
the permission table in docs/api.md ("Who may call what"): a route without a line there, or a line
without a route, fails; so does any status that differs from the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from leadbaton.accounts.models import RepProfile, Role, Team, TimeOff, User
from leadbaton.accounts.services import token_issue
from leadbaton.api import api
from leadbaton.coaching.models import FocusItem
from leadbaton.core import clock
from leadbaton.core.cache import cache_clear
from leadbaton.intake.models import SourceKey
from leadbaton.notify import services as notify
from leadbaton.notify.models import OutboxMessage
from leadbaton.pipeline.coaching import week_label
from leadbaton.pipeline.followup import NO_SUCH_LEAD
from leadbaton.qualification.models import CampaignCost

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
CALLERS = ("anonymous", "rep (owner)", "rep, other team", "manager of the team", "manager, other team", "marketing", "admin")
MORNING_IN_BERLIN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PARAMETER = re.compile(r"\{[^}]*\}|<[^>]*>")  # {lead_id} in OpenAPI and the docs, <int:lead_id> in Django
ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def route_key(method: str, path: str) -> str:
    """`GET /api/v1/leads/{}`: the method and the path with every parameter written `{}`, however it is named."""
    return f"{method.upper()} {PARAMETER.sub('{}', path)}"


def permission_table() -> dict[str, dict[str, int]]:
    """{route key: {caller: status}} from the table under "## Who may call what" in docs/api.md."""
    section = API_DOC.read_text().split("## Who may call what", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header == ["endpoint", *CALLERS], header
    table = {}
    for line in rows[2:]:
        endpoint, *cells = (cell.strip() for cell in line.strip("|").split("|"))
        method, path = endpoint.strip("`").split(" ", 1)
        statuses = [re.search(r"\b[1-5]\d\d\b", cell) for cell in cells]
        assert all(statuses), f"every cell of {endpoint} starts with a status"
        table[route_key(method, path)] = {caller: int(found.group()) for caller, found in zip(CALLERS, statuses, strict=True) if found}
    return table


def server_routes() -> set[str]:
    """Every method and path the server answers: Django's URL patterns, the API's operations from its OpenAPI document,
    and the API's own pages. Django's admin is one line: it has its own permissions (staff users)."""
    routes: set[str] = set()
    operations = api.get_openapi_schema()["paths"]
    for path, methods in operations.items():
        routes |= {route_key(method, path) for method in methods}
    for pattern in get_resolver().url_patterns:
        prefix = "/" + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if prefix == "/admin/":
                routes.add(route_key("GET", prefix))
                continue
            for inner in pattern.url_patterns:
                path = prefix + str(inner.pattern)
                if not any(route_key("GET", path) == route_key("GET", known) for known in operations):
                    routes.add(route_key("GET", path))
            continue
        assert isinstance(pattern, URLPattern)
        view_class = getattr(pattern.callback, "view_class", None)
        allowed = getattr(view_class, "http_method_names", ())  # what a class-based view dispatches to
        methods = [name for name in ("get", "post", "put", "patch", "delete") if name in allowed and hasattr(view_class, name)]
        routes |= {route_key(method, prefix) for method in methods or ["get"]}
    return routes


@dataclass
class World:
    """EMEA (Maria manages it, Lena sells for it) and the Americas (Frank, Jordan); Lena owns the lead that came in."""

    callers: dict[str, User | None]
    lead_id: int
    submission_id: int
    token_id: int
    webhook_id: int
    message_id: str
    time_off_id: int
    chat_target_id: int
    campaign_cost_id: int
    this_week: str  # Lena's, in Berlin: the ISO week her focus is set for; the one before it has a focus item to review
    last_week: str

    @property
    def source_key_id(self) -> int:
        """The live key of the intake tests' source, website."""
        return SourceKey.objects.get(source__slug="website", revoked_at__isnull=True).pk

    @property
    def rep_id(self) -> int:
        """Lena's user id: the rep of EMEA who owns the lead."""
        rep = self.callers["rep (owner)"]
        assert rep is not None
        return rep.pk


@pytest.fixture
def world(intake: Any, db: None) -> World:
    maria = User.objects.create_user("maria@lumen.example", "pw", name="Maria Manager", role=Role.MANAGER)
    frank = User.objects.create_user("frank@lumen.example", "pw", name="Frank Manager", role=Role.MANAGER)
    emea = Team.objects.create(slug="emea", name="EMEA", time_zone="Europe/Berlin", manager=maria, is_default=True)
    amer = Team.objects.create(slug="amer", name="Americas", time_zone="America/New_York", manager=frank)
    lena = User.objects.create_user("lena@lumen.example", "pw", name="Lena Rep", role=Role.REP)
    jordan = User.objects.create_user("jordan@lumen.example", "pw", name="Jordan Rep", role=Role.REP)
    lena_profile = RepProfile.objects.create(user=lena, team=emea, time_zone="Europe/Berlin", hours=ALL_DAY)
    RepProfile.objects.create(user=jordan, team=amer, time_zone="America/New_York", hours=ALL_DAY)
    mark = User.objects.create_user("mark@lumen.example", "pw", name="Mark Marketer", role=Role.MARKETING)
    ada = User.objects.create_superuser("ada@lumen.example", "pw", name="Ada Admin")
    webhook = notify.subscription_add(url="https://crm.example.com/hooks", events=["lead.assigned"], description="", now=clock.now())
    with time_machine.travel(MORNING_IN_BERLIN, tick=False):
        lead = intake.post({"email": "dana@northwind.example", "first_name": "Dana"}).json()
    assert lead["owner"]["id"] == lena.pk, lead
    today = clock.now().astimezone(ZoneInfo("Europe/Berlin")).date()
    this_monday = today - timedelta(days=today.weekday())
    FocusItem.objects.create(rep=lena, week=this_monday - timedelta(days=7), position=1, text="Call fast", set_by=maria, set_at=clock.now())
    return World(
        callers=dict(zip(CALLERS, (None, lena, jordan, maria, frank, mark, ada), strict=True)),
        lead_id=lead["id"],
        submission_id=lead["submission_id"],
        token_id=token_issue(user=lena, name="laptop", now=clock.now()).token.pk,
        webhook_id=webhook.pk,
        message_id=OutboxMessage.objects.get(subscription=webhook).message_id,
        chat_target_id=notify.chat_target_configure(team_id=emea.pk, rep_id=None, url="json://127.0.0.1:9/team")[0].pk,
        time_off_id=TimeOff.objects.create(rep=lena_profile, starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 2)).pk,
        this_week=week_label(this_monday), last_week=week_label(this_monday - timedelta(days=7)),
        campaign_cost_id=CampaignCost.objects.create(campaign="spring-webinar", first_day=date(2026, 11, 1), last_day=date(2026, 11, 30),
                                                     amount=1400, currency="EUR", entered_by=mark, entered_at=clock.now()).pk,
    )


COST = {"campaign": "autumn-fair", "first_day": "2026-11-01", "last_day": "2026-11-30", "amount": "2500.00", "currency": "EUR"}

# How to call each route: (path, JSON body or None). A body is valid, so only who calls decides the answer.
Probe = Callable[[World], tuple[str, dict[str, Any] | None]]
PROBES: dict[str, Probe] = {
    "GET /": lambda w: ("/", None),
    "GET /healthz": lambda w: ("/healthz", None),
    "GET /login/": lambda w: ("/login/", None),
    "POST /login/": lambda w: ("/login/", None),
    "PUT /login/": lambda w: ("/login/", None),
    "POST /logout/": lambda w: ("/logout/", None),
    "GET /account/password/": lambda w: ("/account/password/", None),
    "POST /account/password/": lambda w: ("/account/password/", None),
    "PUT /account/password/": lambda w: ("/account/password/", None),
    "GET /account/password/changed/": lambda w: ("/account/password/changed/", None),
    "GET /account/password/reset/": lambda w: ("/account/password/reset/", None),
    "POST /account/password/reset/": lambda w: ("/account/password/reset/", None),
    "PUT /account/password/reset/": lambda w: ("/account/password/reset/", None),
    "GET /account/password/reset/sent/": lambda w: ("/account/password/reset/sent/", None),
    "GET /account/password/reset/{}/{}/": lambda w: ("/account/password/reset/MQ/set-password/", None),
    "POST /account/password/reset/{}/{}/": lambda w: ("/account/password/reset/MQ/d3k8xs-0123456789abcdef/", None),
    "PUT /account/password/reset/{}/{}/": lambda w: ("/account/password/reset/MQ/d3k8xs-0123456789abcdef/", None),
    "GET /account/password/reset/done/": lambda w: ("/account/password/reset/done/", None),
    "GET /leads/new/": lambda w: ("/leads/new/", None),
    "POST /leads/new/": lambda w: ("/leads/new/", None),
    "GET /leads/{}/": lambda w: (f"/leads/{w.lead_id}/", None),
    "POST /leads/{}/touch/": lambda w: (f"/leads/{w.lead_id}/touch/", None),
    "POST /leads/{}/outcome/": lambda w: (f"/leads/{w.lead_id}/outcome/", None),
    "POST /leads/{}/reject/": lambda w: (f"/leads/{w.lead_id}/reject/", None),
    "POST /leads/{}/reassign/": lambda w: (f"/leads/{w.lead_id}/reassign/", {"to": f"team:{Team.objects.get(slug='emea').pk}",
                                                                           "reason": "Lena is on leave"}),
    "POST /leads/{}/take/": lambda w: (f"/leads/{w.lead_id}/take/", None),
    "GET /teams/": lambda w: ("/teams/", None),
    "GET /teams/{}/": lambda w: ("/teams/emea/", None),
    "POST /teams/{}/move/": lambda w: ("/teams/emea/move/", {"section": "found", "lead": f"{w.lead_id}@rep:{w.rep_id}", "reason": "Lena is ill"}),
    "POST /reps/{}/pause/": lambda w: (f"/reps/{w.rep_id}/pause/", {"team": "emea", "reason": "training"}),
    "POST /reps/{}/resume/": lambda w: (f"/reps/{w.rep_id}/resume/", {"team": "emea"}),
    "GET /settings/": lambda w: ("/settings/", None),
    "POST /settings/": lambda w: ("/settings/", {"name": "APAC", "slug": "apac", "time_zone": "Asia/Singapore"}),
    "GET /settings/routing/": lambda w: ("/settings/routing/", None),
    "POST /settings/routing/": lambda w: ("/settings/routing/", {"rules": "- name: Everyone\n  team: emea\n", "action": "save",
                                                                 "email": "kim@tailspin.example"}),
    "GET /settings/sources/": lambda w: ("/settings/sources/", None),
    "POST /settings/sources/": lambda w: ("/settings/sources/", {"name": "Expo scanner", "slug": "expo", "kind": "event"}),
    "POST /settings/sources/{}/keys/": lambda w: ("/settings/sources/website/keys/", None),
    "POST /settings/sources/{}/keys/{}/revoke/": lambda w: (f"/settings/sources/website/keys/{w.source_key_id}/revoke/", None),
    "GET /settings/webhooks/": lambda w: ("/settings/webhooks/", None),
    "POST /settings/webhooks/": lambda w: ("/settings/webhooks/", {"url": "https://chat.example.com/in", "events": ["lead.created"]}),
    "GET /settings/webhooks/{}/": lambda w: (f"/settings/webhooks/{w.webhook_id}/", None),
    "POST /settings/webhooks/{}/": lambda w: (f"/settings/webhooks/{w.webhook_id}/", {"url": "https://crm.example.com/v2",
                                                                                    "events": ["lead.assigned"], "active": "on"}),
    "POST /settings/webhooks/{}/rotate/": lambda w: (f"/settings/webhooks/{w.webhook_id}/rotate/", None),
    "POST /settings/webhooks/{}/deliveries/{}/redeliver/":
        lambda w: (f"/settings/webhooks/{w.webhook_id}/deliveries/{w.message_id}/redeliver/", None),
    "GET /settings/teams/{}/": lambda w: ("/settings/teams/emea/", None),
    "POST /settings/teams/{}/": lambda w: ("/settings/teams/emea/", {"name": "Europe", "time_zone": "Europe/Paris", "default": "on"}),
    "POST /settings/teams/{}/switch/": lambda w: ("/settings/teams/emea/switch/", {}),
    "GET /settings/service-levels/{}/": lambda w: ("/settings/service-levels/emea/", None),
    "POST /settings/service-levels/{}/drop/": lambda w: ("/settings/service-levels/emea/drop/", {}),
    "POST /settings/service-levels/{}/": lambda w: ("/settings/service-levels/emea/", {
        "first_response_minutes": "10", "remind_before_minutes": "2", "attempts": "6", "attempts_within_days": "10",
        "progress_every_days": "7", "escalation_first_response": "remind at 50%"}),
    "GET /settings/people/": lambda w: ("/settings/people/", None),
    "POST /settings/people/": lambda w: ("/settings/people/", {"email": "nina@lumen.example", "name": "Nina Neu", "role": "marketing"}),
    "GET /settings/people/{}/": lambda w: (f"/settings/people/{w.rep_id}/", None),
    "POST /settings/people/{}/": lambda w: (f"/settings/people/{w.rep_id}/", {"name": "Lena Rep", "role": "rep", "team": "emea"}),
    "POST /settings/people/{}/deactivate/": lambda w: (f"/settings/people/{w.rep_id}/deactivate/", {"reason": "left the company"}),
    "POST /settings/people/{}/activate/": lambda w: (f"/settings/people/{w.rep_id}/activate/", None),
    "POST /settings/teams/{}/chat/": lambda w: ("/settings/teams/emea/chat/", {"url": "json://127.0.0.1:9/chat"}),
    "POST /settings/reps/{}/chat/": lambda w: (f"/settings/reps/{w.rep_id}/chat/", {"url": "json://127.0.0.1:9/chat"}),
    "POST /settings/chat/{}/remove/": lambda w: (f"/settings/chat/{w.chat_target_id}/remove/", None),
    "GET /settings/reps/{}/": lambda w: (f"/settings/reps/{w.rep_id}/", None),
    "POST /settings/reps/{}/": lambda w: (f"/settings/reps/{w.rep_id}/", {
        "team": "emea", "time_zone": "Europe/Berlin", "country": "DE", "hours": "mon-fri 00:00-24:00", "weight": "2", "daily_cap": "",
        "max_open": "",
    }),
    "POST /settings/reps/{}/time-off/": lambda w: (f"/settings/reps/{w.rep_id}/time-off/", {"from": "2030-02-01", "to": "2030-02-02"}),
    "POST /settings/reps/{}/time-off/{}/remove/": lambda w: (f"/settings/reps/{w.rep_id}/time-off/{w.time_off_id}/remove/", None),
    "POST /settings/reps/{}/deactivate/": lambda w: (f"/settings/reps/{w.rep_id}/deactivate/", {"reason": "left the company"}),
    "POST /settings/reps/{}/activate/": lambda w: (f"/settings/reps/{w.rep_id}/activate/", None),
    "GET /submissions/": lambda w: ("/submissions/", None),
    "GET /submissions/{}/": lambda w: (f"/submissions/{w.submission_id}/", None),
    "POST /submissions/{}/replay/": lambda w: (f"/submissions/{w.submission_id}/replay/", None),
    "GET /marketing/rejected/": lambda w: ("/marketing/rejected/", None),
    "GET /marketing/nurture/": lambda w: ("/marketing/nurture/", None),
    "GET /reports/reconciliation/": lambda w: ("/reports/reconciliation/?team=emea", None),
    "GET /reports/service-levels/": lambda w: ("/reports/service-levels/?team=emea", None),
    "GET /reports/progress/": lambda w: ("/reports/progress/?team=emea", None),
    "GET /reports/leaderboard/": lambda w: ("/reports/leaderboard/?team=emea", None),
    "GET /reports/marketing/": lambda w: ("/reports/marketing/", None),
    "GET /reports/referee/": lambda w: ("/reports/referee/", None),
    "GET /coaching/": lambda w: ("/coaching/", None),
    "GET /coaching/{}/": lambda w: (f"/coaching/{w.rep_id}/", None),
    "POST /coaching/{}/focus/": lambda w: (f"/coaching/{w.rep_id}/focus/", {"week": w.this_week, "item-1": "Log a next step on every call"}),
    "POST /coaching/{}/review/": lambda w: (f"/coaching/{w.rep_id}/review/", {"week": w.this_week, "outcome-1": "done"}),
    "GET /settings/marketing/": lambda w: ("/settings/marketing/", None),
    "POST /settings/marketing/targets/": lambda w: ("/settings/marketing/targets/", {"sales_ready_per_week": "10", "acceptance_rate": "80"}),
    "POST /settings/marketing/costs/": lambda w: ("/settings/marketing/costs/", COST),
    "POST /settings/marketing/costs/{}/drop/": lambda w: (f"/settings/marketing/costs/{w.campaign_cost_id}/drop/", None),
    "GET /admin/": lambda w: ("/admin/", None),
    "GET /api/v1/": lambda w: ("/api/v1/", None),
    "GET /api/v1/docs": lambda w: ("/api/v1/docs", None),
    "GET /api/v1/openapi.json": lambda w: ("/api/v1/openapi.json", None),
    "POST /api/v1/leads": lambda w: ("/api/v1/leads", {"email": "kim@tailspin.example"}),
    "GET /api/v1/submissions": lambda w: ("/api/v1/submissions", None),
    "GET /api/v1/submissions/{}": lambda w: (f"/api/v1/submissions/{w.submission_id}", None),
    "POST /api/v1/submissions/{}/replay": lambda w: (f"/api/v1/submissions/{w.submission_id}/replay", None),
    "GET /api/v1/leads/{}": lambda w: (f"/api/v1/leads/{w.lead_id}", None),
    "GET /api/v1/leads/{}/activities": lambda w: (f"/api/v1/leads/{w.lead_id}/activities", None),
    "POST /api/v1/leads/{}/activities": lambda w: (f"/api/v1/leads/{w.lead_id}/activities", {"kind": "call", "result": "connected"}),
    "POST /api/v1/leads/{}/outcome": lambda w: (f"/api/v1/leads/{w.lead_id}/outcome", {"outcome": "not_interested", "reason": "no budget"}),
    "POST /api/v1/leads/{}/reject": lambda w: (f"/api/v1/leads/{w.lead_id}/reject", {"reason": "spam"}),
    "POST /api/v1/leads/{}/reassign": lambda w: (f"/api/v1/leads/{w.lead_id}/reassign", {"to_team": "emea", "reason": "Lena is ill"}),
    "GET /api/v1/leads/{}/routing": lambda w: (f"/api/v1/leads/{w.lead_id}/routing", None),
    "POST /api/v1/reps/{}/pause": lambda w: (f"/api/v1/reps/{w.rep_id}/pause", {"reason": "training"}),
    "POST /api/v1/reps/{}/resume": lambda w: (f"/api/v1/reps/{w.rep_id}/resume", None),
    "GET /api/v1/routing/rules": lambda w: ("/api/v1/routing/rules", None),
    "PUT /api/v1/routing/rules": lambda w: ("/api/v1/routing/rules", {"rules": [{"name": "Everyone", "team": "emea"}]}),
    "GET /api/v1/sla/policies": lambda w: ("/api/v1/sla/policies", None),
    "PUT /api/v1/sla/policies/{}": lambda w: ("/api/v1/sla/policies/emea", {"first_response_minutes": 10}),
    "DELETE /api/v1/sla/policies/{}": lambda w: ("/api/v1/sla/policies/emea", None),
    "GET /api/v1/reports/reconciliation": lambda w: ("/api/v1/reports/reconciliation?team=emea", None),
    "GET /api/v1/reports/reconciliation/leads": lambda w: ("/api/v1/reports/reconciliation/leads?team=emea&figure=received", None),
    "GET /api/v1/reports/service-levels": lambda w: ("/api/v1/reports/service-levels?team=emea", None),
    "GET /api/v1/reports/progress": lambda w: ("/api/v1/reports/progress?team=emea", None),
    "GET /api/v1/reports/leaderboard": lambda w: ("/api/v1/reports/leaderboard?team=emea", None),
    "GET /api/v1/reports/marketing": lambda w: ("/api/v1/reports/marketing", None),
    "GET /api/v1/reports/referee": lambda w: ("/api/v1/reports/referee", None),
    "GET /api/v1/coaching/{}": lambda w: (f"/api/v1/coaching/{w.rep_id}", None),
    "PUT /api/v1/coaching/{}/weeks/{}/focus": lambda w: (f"/api/v1/coaching/{w.rep_id}/weeks/{w.this_week}/focus", {"items": ["Call fast"]}),
    "PUT /api/v1/coaching/{}/weeks/{}/review":
        lambda w: (f"/api/v1/coaching/{w.rep_id}/weeks/{w.last_week}/review", {"reviews": [{"position": 1, "outcome": "done"}]}),
    "GET /api/v1/marketing/targets": lambda w: ("/api/v1/marketing/targets", None),
    "PUT /api/v1/marketing/targets": lambda w: ("/api/v1/marketing/targets", {"sales_ready_per_week": 10}),
    "GET /api/v1/campaign-costs": lambda w: ("/api/v1/campaign-costs", None),
    "POST /api/v1/campaign-costs": lambda w: ("/api/v1/campaign-costs", COST),
    "DELETE /api/v1/campaign-costs/{}": lambda w: (f"/api/v1/campaign-costs/{w.campaign_cost_id}", None),
    "GET /api/v1/reports/progress/leads": lambda w: ("/api/v1/reports/progress/leads?team=emea&figure=stale", None),
    "GET /api/v1/me": lambda w: ("/api/v1/me", None),
    "GET /api/v1/me/leads": lambda w: ("/api/v1/me/leads", None),
    "GET /api/v1/me/queue": lambda w: ("/api/v1/me/queue", None),
    "GET /api/v1/me/notifications": lambda w: ("/api/v1/me/notifications", None),
    "POST /api/v1/me/notifications/read": lambda w: ("/api/v1/me/notifications/read", {}),
    "POST /api/v1/tokens": lambda w: ("/api/v1/tokens", {"name": "phone"}),
    "DELETE /api/v1/tokens/{}": lambda w: (f"/api/v1/tokens/{w.token_id}", None),
    "POST /api/v1/webhooks": lambda w: ("/api/v1/webhooks", {"url": "https://chat.example.com/in", "events": ["lead.created"]}),
    "GET /api/v1/webhooks": lambda w: ("/api/v1/webhooks", None),
    "PATCH /api/v1/webhooks/{}": lambda w: (f"/api/v1/webhooks/{w.webhook_id}", {"description": "CRM"}),
    "POST /api/v1/webhooks/{}/rotate": lambda w: (f"/api/v1/webhooks/{w.webhook_id}/rotate", None),
    "GET /api/v1/webhooks/{}/deliveries": lambda w: (f"/api/v1/webhooks/{w.webhook_id}/deliveries", None),
    "POST /api/v1/webhooks/{}/deliveries/{}/redeliver":
        lambda w: (f"/api/v1/webhooks/{w.webhook_id}/deliveries/{w.message_id}/redeliver", None),
}

TABLE = permission_table()


def test_every_route_the_server_answers_has_a_line_in_the_permission_table_and_no_line_is_stale(db: None) -> None:
    routes = server_routes()
    assert sorted(routes - TABLE.keys()) == [], "routes missing from the table in docs/api.md (Who may call what)"
    assert sorted(TABLE.keys() - routes) == [], "lines in the table for routes the server does not have"
    assert sorted(routes - PROBES.keys()) == [], "routes this test does not know how to call yet"


def body_of(path: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """How the body is sent: JSON to the API, as a browser posts a form to the web pages."""
    if body is None:
        return {}
    return {"data": body, "content_type": "application/json"} if path.startswith("/api/") else {"data": body}


def call(user: User | None, method: str, path: str, body: dict[str, Any] | None) -> int:
    client = Client()
    headers = {}
    if user is not None:
        client.force_login(user)
        headers["Authorization"] = f"Bearer {token_issue(user=user, name='probe', now=clock.now()).plaintext}"
    # Each caller meets the same world: what one changes is undone before the next calls.
    with transaction.atomic():
        kwargs: dict[str, Any] = {"headers": headers}
        kwargs.update(body_of(path, body))
        status = getattr(client, method.lower())(path, **kwargs).status_code
        transaction.set_rollback(True)
    cache_clear()
    return status


@pytest.mark.parametrize("route", sorted(TABLE))
def test_each_caller_gets_what_the_permission_table_says(world: World, route: str) -> None:
    method = route.split(" ", 1)[0]
    path, body = PROBES[route](world)
    answers = {caller: call(user, method, path, body) for caller, user in world.callers.items()}
    assert answers == TABLE[route]


LEAD_ROUTES = [route for route in TABLE if "/leads/{}" in route]


@pytest.mark.parametrize("route", LEAD_ROUTES)
def test_a_lead_a_caller_may_not_read_answers_as_one_that_does_not_exist(world: World, route: str) -> None:
    method = route.split(" ", 1)[0]
    path, body = PROBES[route](world)
    missing = path.replace(f"/{world.lead_id}/", "/999999/") if path.endswith("/") else re.sub(rf"/{world.lead_id}(/|$)", r"/999999\1", path)
    for caller in ("rep, other team", "manager, other team"):
        user = world.callers[caller]
        assert user is not None
        client = Client()
        client.force_login(user)
        headers = {"Authorization": f"Bearer {token_issue(user=user, name='probe', now=clock.now()).plaintext}"}
        kwargs: dict[str, Any] = {"headers": headers}
        kwargs.update(body_of(path, body))
        theirs, nothing = (getattr(client, method.lower())(where, **kwargs) for where in (path, missing))
        assert theirs.status_code == nothing.status_code == 404, caller
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", theirs.content.decode())
        assert text == re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", nothing.content.decode()), caller
        assert NO_SUCH_LEAD in text.lower()
        for name in ("Lena", "EMEA", "Dana"):
            assert name not in text, (caller, name)

"""The weekly digest (P7): on Monday morning in each person's time zone, an email with their last full week.

- A sales manager: for each team they manage, each rep's ledger (reports.reconciliation), the team's service levels
  (reports.service_levels), and each rep's stale leads and overdue next steps now (reports.progress).
- A rep: their own ledger, service levels, leads to catch up on, and this week's coaching focus.
- Marketing: sales-ready leads and acceptance against the targets, and each source's week (reports.marketing).

Sent through the outbox once per person and week however many workers run: the message's id is made of the person and
the week, and the outbox keeps one message per id. It goes out on Monday from 07:00 to midnight in the person's zone,
so a new installation does not email everyone on its first Thursday; workers down for the whole of someone's Monday
morning and day mean no digest for them that week. The week reported is the one before the person's own Monday, each
team's counted in its time zone; a person east of their team gets it once that week has ended where the team is.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from time import monotonic as time_now
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction

from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.accounts.queries import time_zone_of
from leadbaton.coaching.models import FocusItem
from leadbaton.core.wakeup import work_queued
from leadbaton.notify.models import OutboxMessage
from leadbaton.notify.services import outbox_message
from leadbaton.pipeline.coaching import week_label
from leadbaton.reports.marketing import marketing_report
from leadbaton.reports.periods import Period, week_of
from leadbaton.reports.progress import progress
from leadbaton.reports.reconciliation import reconciliation
from leadbaton.reports.service_levels import ServiceRow, duration_text, service_levels, share_text

log = logging.getLogger(__name__)

EVENT = "report.weekly_digest"
SEND_AT = time(7, 0)  # Monday morning, in the person's own time zone


def digest_id(user_id: int, week: str) -> str:
    """The outbox message id of a person's digest for a week: the same from every worker, so it is written once."""
    return f"digest-{user_id}-{week}"


def digests_send(*, now: datetime, budget_seconds: float | None = None) -> int:
    """Write the digest of everyone for whom it is Monday, 07:00 or later, and who has none for this week yet. Returns how
    many were written. One person's failure is logged and the others still get theirs; a run stops writing once
    `budget_seconds` (half the worker's lease) have gone, and the next run goes on."""
    budget = settings.WORKER_LEASE_SECONDS / 2 if budget_seconds is None else budget_seconds
    stop_at = time_now() + budget
    people = list(User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.REP, Role.MARKETING]).order_by("pk"))
    default = Team.objects.filter(is_default=True).values_list("time_zone", flat=True).first() or settings.TIME_ZONE
    due: list[tuple[User, date]] = []
    for person in people:  # a rep's own zone, a manager's team's, anyone else the default team's
        try:
            zone = ZoneInfo(time_zone_of(person.pk, default))
        except (ValueError, KeyError):  # a zone the database holds that this machine does not know
            log.exception("weekly digest: %s has an unknown time zone; sent in %s", person.email, default)
            zone = ZoneInfo(default)
        local = now.astimezone(zone)
        if local.weekday() == 0 and local.time() >= SEND_AT:  # Monday from 07:00: not a new installation's first Thursday
            due.append((person, local.date()))
    sent = set(OutboxMessage.objects.filter(message_id__in=[digest_id(person.pk, week_label(monday)) for person, monday in due])
               .values_list("message_id", flat=True))
    written = 0
    for person, monday in due:
        if digest_id(person.pk, week_label(monday)) in sent:
            continue
        if time_now() >= stop_at:
            break
        try:
            payload = digest_of(person, monday=monday, now=now)
        except Exception:  # one person's digest failing must not keep the others from theirs
            log.exception("weekly digest of %s failed; it is tried again in the next run", person.email)
            continue
        if payload is None:
            continue
        message = outbox_message(channel=OutboxMessage.Channel.EMAIL, event=EVENT, recipient=person.email, payload=payload, now=now)
        message.message_id = digest_id(person.pk, week_label(monday))
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:  # another worker wrote it meanwhile: theirs is the one
            continue
        written += 1
        work_queued()
    return written


def digest_of(person: User, *, monday: date, now: datetime) -> dict[str, Any] | None:
    """The digest's subject, sections and link for `person`: the ISO week before the one starting `monday` (their own
    Monday), each team's counted in that team's time zone; None when there is nothing that is theirs to report (a
    manager of no team, a rep of none) or when that week has not ended yet where a team is (a person east of their team,
    early on Monday: the next run sends it)."""
    if person.role == Role.MANAGER:
        teams = list(Team.objects.filter(manager_id=person.pk, active=True).order_by("name"))
        if not teams:
            return None
        periods = {team.pk: week_of(monday - timedelta(days=7), team.time_zone) for team in teams}
        if any(period.end > now for period in periods.values()):
            return None
        sections: list[dict[str, Any]] = []
        for team in teams:
            sections += _team_sections(team, periods[team.pk], now)
        label = periods[teams[0].pk].label
        return _payload(f"Your teams' week {label}" if len(teams) > 1 else f"{teams[0].name}'s week {label}", sections,
                        "/reports/reconciliation/", {"period": label, "team": teams[0].slug}, "Open the reports")
    if person.role == Role.REP:
        profile = RepProfile.objects.select_related("team").filter(user_id=person.pk).first()
        if profile is None or profile.team is None:
            return None
        period = week_of(monday - timedelta(days=7), profile.team.time_zone)
        if period.end > now:
            return None
        return _payload(f"Your week {period.label}", _rep_sections(person, monday, period, now), "/reports/reconciliation/",
                        {"period": period.label}, "Open your reports")
    default = Team.objects.filter(is_default=True).first()
    period = week_of(monday - timedelta(days=7), default.time_zone if default else "UTC")
    if period.end > now:
        return None
    return _payload(f"Marketing's week {period.label}", _marketing_sections(period), "/reports/marketing/", {"period": period.label},
                    "Open marketing's report")


def _payload(subject: str, sections: list[dict[str, Any]], path: str, query: dict[str, str], link_text: str) -> dict[str, Any]:
    return {"subject": subject, "sections": sections, "link": f"{settings.BASE_URL}{path}?{urlencode(query)}", "link_text": link_text}


def _ledger_line(name: str, counts: Any) -> str:
    return (f"{name}: open at start {counts.count('open_at_start')}, received {counts.count('received')}, purchased {counts.count('purchased')}, "
            f"not interested {counts.count('not_interested')}, rejected {counts.count('rejected')}, reassigned away {counts.count('reassigned_away')}, "
            f"open at end {counts.count('open_at_end')} ({counts.count('open_at_end_in_progress')} in progress)")


def _service_line(name: str, row: ServiceRow) -> str:
    touch = row.to_first_touch
    within = share_text(touch.within)
    first = row.clocks["first_response"]
    close = share_text(row.close_rate)
    return (f"{name}: {row.first_owned} new leads, first touch median {duration_text(touch.median)}, {within} within 5 minutes; "
            f"first responses met {first['met']} of {first['met'] + first['breached']}; close rate {close}")


def _team_sections(team: Team, period: Period, now: datetime) -> list[dict[str, Any]]:
    ledger = reconciliation(period, now=now, team_id=team.pk)
    served = service_levels(period, team_id=team.pk)
    moving = progress(period, now=now, team_id=team.pk)
    unaccounted = (f"Unaccounted: {len(ledger.unaccounted)} lead(s); the report lists them." if ledger.unaccounted
                   else "Unaccounted: none; every lead is accounted for.")
    behind = [f"{row.name}: {row.stale} stale, {row.overdue} next step(s) overdue, of {row.in_progress} in progress"
              for row in moving.rows if row.stale or row.overdue]
    return [
        {"title": f"{team.name}: the ledger, {period.label}", "lines": [*(_ledger_line(row.name, row) for row in ledger.rows), unaccounted]},
        {"title": f"{team.name}: service levels", "lines": [_service_line(row.name, row) for row in [*served.rows, served.total]]},
        {"title": f"{team.name}: leads to catch up on now", "lines": behind or ["Nobody has a stale lead or an overdue next step."]},
    ]


def _rep_sections(person: User, monday: date, period: Period, now: datetime) -> list[dict[str, Any]]:
    """A rep's own week, as their reports show it (every team they held a lead for), and this week's focus."""
    ledger = reconciliation(period, now=now, rep_id=person.pk)
    served = service_levels(period, rep_id=person.pk)
    moving = progress(period, now=now, rep_id=person.pk).total
    focus = [item.text for item in FocusItem.objects.filter(rep_id=person.pk, week=monday).order_by("position")]
    return [
        {"title": f"Your ledger, {period.label}", "lines": [_ledger_line("You", ledger.total)]},
        {"title": "Your service levels", "lines": [_service_line("You", served.total)]},
        {"title": "To catch up on now", "lines": [f"{moving.stale} stale lead(s), {moving.overdue} next step(s) overdue, of {moving.in_progress} in progress"]},
        {"title": "Your focus this week", "lines": focus or ["Your manager has not set this week's focus yet."]},
    ]


def _marketing_sections(period: Period) -> list[dict[str, Any]]:
    report = marketing_report(period)
    total, targets = report.total, report.targets
    ready = f"Sales-ready leads: {total.sales_ready}" + (f" of a target of {targets.sales_ready}" if targets.sales_ready is not None else "")
    accepted = share_text(total.acceptance)
    acceptance = f"Accepted by sales: {accepted}" + (f" against {targets.acceptance_rate}%" if targets.acceptance_rate is not None else "")
    sources = [f"{row.name}: {row.leads} leads, {row.sales_ready} sales-ready, {row.purchased} purchased" for row in report.by_source]
    return [
        {"title": f"Against the targets, {period.label}", "lines": [ready, acceptance]},
        {"title": "By source", "lines": sources or ["No lead came this week."]},
    ]

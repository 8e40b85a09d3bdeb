"""How the API shows service-level clocks: a lead's clocks, its speed to lead, and a list's next clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadbaton.leads.models import Activity, Lead, touches_before_conversation
from leadbaton.sla.models import Deadline
from leadbaton.sla.queries import NextClock, clock_tally

TERMS = ("counted", "minutes", "days", "touches")


def clock_out(deadline: Deadline, *, now: datetime) -> dict[str, Any]:
    """A clock as GET /leads/{id} shows it. Needs rep and the steps taken (`taken`) loaded (sla.queries.clocks_of)."""
    return {
        "id": deadline.pk, "kind": deadline.kind, "owner": {"id": deadline.rep_id, "name": deadline.rep.display_name},
        "status": deadline.status, "started_at": deadline.started_at, "breaches_at": deadline.breach_at,
        "met_at": deadline.met_at, "breached_at": deadline.breached_at, "cancelled_at": deadline.cancelled_at,
        "why_closed": deadline.why_closed, "seconds_left": deadline.seconds_left(now),
        "terms": {name: deadline.terms.get(name) for name in TERMS} | {"counted": deadline.terms.get("counted", "")},
        "steps": [
            {"action": step.action, "planned_at": step.planned_at, "at": step.at, "skipped": step.skipped, "note": step.note}
            for step in deadline.taken.all()
        ],
    }


def speed_to_lead_out(lead: Lead, *, activities: list[Activity], clocks: list[Deadline]) -> dict[str, Any]:
    """Speed to lead (S4) of a lead, from its activities (oldest first) and every clock it ran."""
    return {
        "seconds_to_owner": lead.seconds_to_owner, "seconds_to_first_touch": lead.seconds_to_first_touch,
        "touches_before_conversation": touches_before_conversation(activities), "by_clock": clock_tally(clocks),
    }


def next_clock_out(next_clock: NextClock | None, *, now: datetime) -> dict[str, Any] | None:
    if next_clock is None:
        return None
    return {"kind": next_clock.kind, "breaches_at": next_clock.breaches_at, "seconds_left": next_clock.seconds_left(now)}

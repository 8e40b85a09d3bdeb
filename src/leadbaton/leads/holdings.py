"""A lead's holdings replayed from its ledger: which rep held it open, from when to when, how it came and how it ended.

A rep holds a lead from the handoff that gives it to them to the next handoff of that lead. While held it is open until
an outcome closes it (purchased, not interested) or a handoff takes it away (rejected back to marketing, or anything
else: reassigned, returned or moved to a queue, moved by a breached service level). It is untouched until a touch or an
in-progress outcome; a lead reassigned from a rep who had touched it comes in progress, one from a queue or from
marketing starts untouched again (as the lead's stage does).

leads.services keeps a Holding row per holding in the same transaction as the handoff, touch or outcome that changes
it; this replay is what those rows must always equal (the backfill migration writes them with it, `leadbaton report
check` compares the two). Pure: it reads no database, so the migration can use it on historical rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

REP, TEAM = "rep", "team"
PURCHASED, NOT_INTERESTED, IN_PROGRESS = "purchased", "not_interested", "in_progress"
OUTCOME = "outcome"
HANDED_OVER = "handed over by someone who did not hold it"  # a Misfit's reason; `other_rep_id` says who (None: not a rep)
REJECTED_REASON, REASSIGNED_REASON, SLA_REASON, RECYCLED_REASON = "rejected", "reassigned", "sla_breach", "recycled"


@dataclass
class Span:
    """One holding, as a Holding row keeps it: `closed_how` purchased, not_interested, rejected or away; "" while open."""

    lead_id: int
    rep_id: int
    team_id: int | None
    came: str
    started_at: datetime
    touched_at: datetime | None = None
    closed_at: datetime | None = None
    closed_how: str = ""

    @property
    def open(self) -> bool:
        return self.closed_at is None

    def key(self) -> tuple[Any, ...]:
        return (self.lead_id, self.rep_id, self.team_id, self.came, self.started_at, self.touched_at, self.closed_at, self.closed_how)


@dataclass(frozen=True)
class Misfit:
    """Something in a lead's history that does not fit the story above, at `at`, while `rep_id` held it (if anyone)."""

    lead_id: int
    rep_id: int | None
    at: datetime
    reason: str
    other_rep_id: int | None = None  # the other person the reason names, if any


def came_of(reason: str, from_kind: str) -> str:
    """How a lead came to the rep a handoff gives it to: sla, reassigned (from a rep), assigned (from a queue by a
    manager), queue (handed out, or taken), routing."""
    if reason == SLA_REASON:
        return "sla"
    if from_kind == REP:
        return "reassigned"
    if reason == REASSIGNED_REASON:
        return "assigned"
    if from_kind == TEAM:
        return "queue"
    return "routing"


def replay(lead_id: int, handoffs: Iterable[Sequence[Any]], activities: Iterable[Sequence[Any]]) -> tuple[list[Span], list[Misfit]]:
    """The lead's holdings and misfits. `handoffs`: (at, id, from_kind, from_rep_id, to_kind, to_team_id, to_rep_id, reason);
    `activities` (touches and outcomes only): (at, id, kind, detail). At one moment, activities come before a handoff (an
    outcome is recorded, then the lead is sent back)."""
    events = [(at, 1, number, rest) for at, number, *rest in handoffs] + [(at, 0, number, rest) for at, number, *rest in activities]
    events.sort(key=lambda event: event[:3])
    spans: list[Span] = []
    misfits: list[Misfit] = []
    held: Span | None = None
    for at, is_handoff, _, values in events:
        if is_handoff:
            from_kind, from_rep, to_kind, to_team, to_rep, reason = values
            touched = False
            if held is not None and held.open:
                if from_kind != REP or from_rep != held.rep_id:
                    misfits.append(Misfit(lead_id, held.rep_id, at, HANDED_OVER, from_rep))
                elif reason == RECYCLED_REASON:
                    misfits.append(Misfit(lead_id, held.rep_id, at, "recycled to marketing while still open"))
                held.closed_at, held.closed_how = at, "rejected" if reason == REJECTED_REASON else "away"
                touched = held.touched_at is not None and from_kind == REP
            held = None
            if to_kind == REP and to_rep is not None:
                held = Span(lead_id, to_rep, to_team, came_of(reason, from_kind), at, touched_at=at if touched else None)
                spans.append(held)
            continue
        kind, detail = values
        outcome = (detail or {}).get("outcome") if kind == OUTCOME else None
        if held is None or not held.open:
            if outcome in (PURCHASED, NOT_INTERESTED, IN_PROGRESS):
                misfits.append(Misfit(lead_id, held.rep_id if held else None, at, f"an outcome ({outcome}) recorded while no rep held it open"))
            continue
        if held.touched_at is None and (kind != OUTCOME or outcome == IN_PROGRESS):
            held.touched_at = at
        if outcome in (PURCHASED, NOT_INTERESTED):
            held.closed_at, held.closed_how = at, str(outcome)
    return spans, misfits

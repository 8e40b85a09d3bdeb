"""Who can take a lead right now, and why not. Pure: the caller loads the facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from leadbaton.core.calendar import WorkingTime, at_work


@dataclass(frozen=True)
class Candidate:
    """A rep as routing sees them at one moment."""

    rep_id: int
    name: str
    active: bool
    paused: bool
    pause_reason: str
    working_time: WorkingTime
    daily_cap: int | None
    assigned_today: int
    open_ceiling: int | None
    open_in_progress: int
    weight: int
    last_assigned_at: datetime | None
    rotation_credit: int


@dataclass(frozen=True)
class Eligibility:
    rep_id: int
    name: str
    eligible: bool
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"rep_id": self.rep_id, "name": self.name, "eligible": self.eligible, "reasons": self.reasons}


def eligibility(candidate: Candidate, now: datetime) -> Eligibility:
    """Every reason the rep cannot take a new lead at `now`; eligible when there is none."""
    reasons = []
    if not candidate.active:
        reasons.append("deactivated")
    if candidate.paused:
        reasons.append(f"paused{f' ({candidate.pause_reason})' if candidate.pause_reason else ''}")
    working = at_work(candidate.working_time, now)
    if not working.working:
        reasons.append(working.reason)
    if candidate.daily_cap is not None and candidate.assigned_today >= candidate.daily_cap:
        reasons.append(f"daily cap reached ({candidate.assigned_today} of {candidate.daily_cap} new leads today)")
    if candidate.open_ceiling is not None and candidate.open_in_progress >= candidate.open_ceiling:
        reasons.append(f"at the ceiling of open leads ({candidate.open_in_progress} of {candidate.open_ceiling})")
    return Eligibility(candidate.rep_id, candidate.name, not reasons, reasons)

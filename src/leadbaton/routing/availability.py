"""Who can take a lead right now, and why not. Pure: the caller loads the facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from leadbaton.core.calendar import WorkingTime, at_work


@dataclass(frozen=True)
class CatchUp:
    """When a rep has fallen behind on the leads they have and gets no new ones until caught up.

    Set by the organisation's service levels and handed to routing by the use case that routes: a
    share of the rep's open leads in progress with no touch or outcome for `progress_days` (percent;
    0 switches it off), and a number of in-progress leads whose next step is past (0: off).
    """

    stale_share: int = 0
    overdue_next_steps: int = 0
    progress_days: int = 7

    @property
    def on(self) -> bool:
        return bool(self.stale_share or self.overdue_next_steps)

    def reasons(self, *, open_leads: int, stale: int, overdue: int) -> list[str]:
        """Why a rep with these counts is catching up ([] when they are not): each test over its limit, with the numbers."""
        reasons = []
        if self.stale_share and stale * 100 > self.stale_share * open_leads:
            reasons.append(f"catching up: {stale} of {open_leads} open leads stale (over {self.stale_share}%)")
        if self.overdue_next_steps and overdue > self.overdue_next_steps:
            reasons.append(f"catching up: {overdue} next steps overdue (over {self.overdue_next_steps})")
        return reasons


NO_CATCH_UP = CatchUp()


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
    # Counted only when the catch-up gate is on (else 0): in-progress leads without progress, and with a past next step.
    stale_leads: int = 0
    overdue_next_steps: int = 0
    catch_up: CatchUp = NO_CATCH_UP


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
    reasons += candidate.catch_up.reasons(
        open_leads=candidate.open_in_progress, stale=candidate.stale_leads, overdue=candidate.overdue_next_steps
    )
    return Eligibility(candidate.rep_id, candidate.name, not reasons, reasons)

"""How a team picks one of its available reps. Pure: candidates and the team's memory in, a choice out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from leadbaton.routing.availability import Candidate

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Pick:
    rep_id: int
    # New rotation credits for the weighted strategy: {rep_id: credit}; empty for the others.
    credits: dict[int, int]
    how: str


def round_robin(available: list[Candidate], last_rep_id: int | None) -> Pick:
    """The next available rep after the last one who got a lead, in a fixed order (by id)."""
    ordered = sorted(available, key=lambda candidate: candidate.rep_id)
    after = [candidate for candidate in ordered if last_rep_id is not None and candidate.rep_id > last_rep_id]
    chosen = (after or ordered)[0]
    return Pick(chosen.rep_id, {}, "round robin")


def weighted(available: list[Candidate]) -> Pick:
    """Smooth weighted round robin: over time each rep gets leads in proportion to their weight, evenly spread.

    Every available rep earns their weight in credit; the richest (ties: lowest id)
    gets the lead and pays the total of the weights.
    """
    total = sum(candidate.weight for candidate in available)
    credits = {candidate.rep_id: candidate.rotation_credit + candidate.weight for candidate in available}
    chosen = min(available, key=lambda candidate: (-credits[candidate.rep_id], candidate.rep_id))
    credits[chosen.rep_id] -= total
    return Pick(chosen.rep_id, credits, f"weighted (weight {chosen.weight} of {total})")


def taken(available: list[Candidate], rep_id: int) -> Pick:
    """A rep took a lead themselves: under weighted routing they are charged as if the rotation had picked them
    (every available rep earns their weight, the taker pays the total), so taking does not add to their share."""
    total = sum(candidate.weight for candidate in available)
    credits = {candidate.rep_id: candidate.rotation_credit + candidate.weight for candidate in available}
    credits[rep_id] = credits.get(rep_id, 0) - total
    return Pick(rep_id, credits, "taken from the queue")


def least_loaded(available: list[Candidate]) -> Pick:
    """Fewest open in-progress leads; ties go to the rep who has waited longest since their last lead."""
    chosen = min(
        available,
        key=lambda candidate: (candidate.open_in_progress, candidate.last_assigned_at or EPOCH, candidate.rep_id),
    )
    return Pick(chosen.rep_id, {}, f"least loaded ({chosen.open_in_progress} open)")

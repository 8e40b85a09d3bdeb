"""The catch-up gate (H3): the service levels say when a rep is too far behind to take new leads; routing applies it.

Routing is a capability and reads no other one, so the use cases that route read the values here
and hand them to routing as a routing value (CatchUp). They are configuration, kept in memory until
it changes; the leads they are applied to are counted afresh at every routing.
"""

from __future__ import annotations

from leadbaton.core.cache import cached
from leadbaton.routing.availability import CatchUp
from leadbaton.sla import services as sla


def catch_up_terms() -> CatchUp:
    """The organisation's catch-up gate: the policy's values, or the defaults when none was configured."""
    return cached("catch-up terms", _terms_load)


def _terms_load() -> CatchUp:
    policy = sla.policy_current()
    return CatchUp(
        stale_share=policy.catch_up_stale_share,
        overdue_next_steps=policy.catch_up_overdue_next_steps,
        progress_days=policy.progress_every_days,
    )

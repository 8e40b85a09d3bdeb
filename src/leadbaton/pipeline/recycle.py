"""Not interested, not now (N3): a lead closed so, with a cool-off, opens again in marketing's nurture when it ends.

Its rep's outcome stays on record (the activity, the rep's ledger); the lead starts a new life with marketing, a
handoff the ledger records as recycled. If the person came back meanwhile, they already have an open lead of their
own and this one stays closed.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.models import Activity, Handoff, Lead, Owner, Stage
from leadbaton.notify.models import Event
from leadbaton.pipeline.announce import lead_announce

BATCH = 200


def leads_recycle(*, now: datetime) -> int:
    """Send every lead whose cool-off has ended back to nurture, each in its own transaction. Returns how many went."""
    due = list(Lead.objects.filter(recycle_at__lte=now, stage=Stage.NOT_INTERESTED).order_by("recycle_at", "id").values_list("pk", flat=True)[:BATCH])
    return sum(_recycle_one(lead_id, now) for lead_id in due)


def _recycle_one(lead_id: int, now: datetime) -> bool:
    with transaction.atomic():
        lead = Lead.objects.select_for_update(of=("self",)).filter(pk=lead_id, stage=Stage.NOT_INTERESTED, recycle_at__lte=now).first()
        if lead is None:  # done by another worker meanwhile
            return False
        days = (now - lead.closed_at).days if lead.closed_at else 0
        others = [found.lead.pk for found in lead_queries.leads_open_for(email_key=lead.email_key, phone=lead.phone) if found.lead.pk != lead.pk]
        if others:
            leads.lead_recycle_cancel(lead=lead)
            if lead.owner_rep_id is not None:  # the rep who closed it: an outcome is only ever recorded on a rep's lead
                Activity.objects.create(lead=lead, by_user_id=lead.owner_rep_id, at=now, kind=Activity.Kind.NOTE,
                                        note=f"Not sent back to nurture: the person has an open lead already (lead {others[0]})")
            return False
        said = lead.lost_reason
        leads.lead_recycle(lead=lead, now=now)
        leads.lead_set_owner(lead=lead, to=Owner.marketing(), at=now, reason=Handoff.Reason.RECYCLED,
                             note=f"not interested then ({said}); back to nurture after {days} days"[:500], rule="recycled after a cool-off")
        lead_announce(lead=lead, events=[Event.LEAD_RECYCLED], now=now, why={"recycled": {"not_interested_because": said, "after_days": days}})
    return True


"""Not interested, not now (N3): a lead closed so, with a cool-off, opens again in marketing's nurture when it ends.

Its rep's outcome stays on record (the activity, the rep's ledger); the lead starts a new life with marketing, a
handoff the ledger records as recycled. If the person came back meanwhile, they already have an open lead of their
own and this one stays closed (logged; nobody is told).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.models import Handoff, Lead, LeadIdentity, Owner, Stage
from leadbaton.notify.models import Event
from leadbaton.pipeline.announce import lead_announce

BATCH = 200
log = logging.getLogger(__name__)


def leads_recycle(*, now: datetime) -> int:
    """Send every lead whose cool-off has ended back to nurture, each in its own transaction. Returns how many went.
    One that cannot go (it would collide with an open lead of the same person that arrived a moment ago) stays closed."""
    due = list(Lead.objects.filter(recycle_at__lte=now, stage=Stage.NOT_INTERESTED).order_by("recycle_at", "id").values_list("pk", flat=True)[:BATCH])
    recycled = 0
    for lead_id in due:
        try:
            recycled += _recycle_one(lead_id, now)
        except IntegrityError:  # an open lead of the same person committed between the check and the write
            log.warning("lead %s not sent back to nurture: the person has an open lead already", lead_id)
            with transaction.atomic():
                lead = Lead.objects.select_for_update(of=("self",)).filter(pk=lead_id).first()
                if lead is not None:
                    leads.lead_recycle_cancel(lead=lead)
    return recycled


def _recycle_one(lead_id: int, now: datetime) -> bool:
    with transaction.atomic():
        lead = Lead.objects.select_for_update(of=("self",)).filter(pk=lead_id, stage=Stage.NOT_INTERESTED, recycle_at__lte=now).first()
        if lead is None:  # done by another worker meanwhile
            return False
        if _has_open_lead(lead):
            log.info("lead %s not sent back to nurture: the person has an open lead already", lead.pk)
            leads.lead_recycle_cancel(lead=lead)
            return False
        days = (now - lead.closed_at).days if lead.closed_at else 0
        said = lead.lost_reason
        leads.lead_recycle(lead=lead, now=now)
        leads.lead_set_owner(lead=lead, to=Owner.marketing(), at=now, reason=Handoff.Reason.RECYCLED,
                             note=f"not interested then ({said}); back to nurture after {days} days"[:500], rule="recycled after a cool-off")
        lead_announce(lead=lead, events=[Event.LEAD_RECYCLED], now=now, why={"recycled": {"not_interested_because": said, "after_days": days}})
    return True


def _has_open_lead(lead: Lead) -> bool:
    """Whether the person has an open lead of their own, as intake would recognise them (decision 0016): one that used
    any email this lead used, or one sharing a phone where either of the two has no email. Every email and phone the
    lead has used counts, and each lookup takes intake's locks, so an inquiry arriving now is decided after this."""
    identities = list(LeadIdentity.objects.filter(lead=lead).values_list("kind", "value"))
    emails = {value for kind, value in identities if kind == LeadIdentity.Kind.EMAIL} | ({lead.email_key} - {""})
    phones = {value for kind, value in identities if kind == LeadIdentity.Kind.PHONE} | ({lead.phone} - {""})
    for email in sorted(emails):
        if any(found.lead.pk != lead.pk and found.by_email for found in lead_queries.leads_open_for(email_key=email, phone="", lock=True)):
            return True
    for phone in sorted(phones):
        for found in lead_queries.leads_open_for(email_key="", phone=phone, lock=True):
            if found.lead.pk != lead.pk and (not emails or not found.lead.email_key):
                return True
    return False

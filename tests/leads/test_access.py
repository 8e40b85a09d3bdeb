"""Who may read a lead: the filter lists and counts use says exactly what lead_access says, lead by lead."""

from __future__ import annotations

from leadbaton.accounts.models import RepProfile, Role, Team, User
from leadbaton.core import clock
from leadbaton.leads import services as leads
from leadbaton.leads.access import lead_access, readable_leads
from leadbaton.leads.models import Lead, Owner, Stage
from leadbaton.leads.queries import lead_with_owner
from leadbaton.pipeline.followup import viewer_of


def lead(owner: Owner, stage: str, email: str) -> Lead:
    return leads.lead_create(values={"email": email, "email_key": email}, stage=stage, owner=owner, score=50, score_reasons=[],
                             definition_version=None, source_slug="website", now=clock.now())


def test_the_readable_leads_filter_agrees_with_lead_access_for_every_lead_and_every_role(org):
    frank = User.objects.create_user("frank@example.com", "pw", name="Frank Manager", role=Role.MANAGER)
    Team.objects.filter(pk=org.amer.pk).update(manager=frank)
    moved = User.objects.create_user("mo@example.com", "pw", name="Mo Rep", role=Role.REP)
    RepProfile.objects.create(user=moved, team=org.amer, time_zone="UTC", hours={})
    everyone = [org.admin, org.marketer, org.manager, frank, org.alice, org.bob, moved]
    made = [
        lead(Owner.marketing(), Stage.NURTURE, "a@x.example"),
        lead(Owner.team(org.emea.pk), Stage.QUEUED, "b@x.example"),
        lead(Owner.team(org.amer.pk), Stage.QUEUED, "c@x.example"),
        lead(Owner.rep(org.alice.pk, org.emea.pk), Stage.ASSIGNED, "d@x.example"),
        lead(Owner.rep(org.bob.pk, org.amer.pk), Stage.IN_PROGRESS, "e@x.example"),
        lead(Owner.rep(moved.pk, org.emea.pk), Stage.ASSIGNED, "f@x.example"),  # routed by EMEA; Mo sells for the Americas now
        lead(Owner.rep(org.manager.pk, None), Stage.ASSIGNED, "g@x.example"),  # a manager who owns a lead themselves
    ]
    for user in everyone:
        viewer = viewer_of(user)
        filtered = set(Lead.objects.filter(readable_leads(viewer)).values_list("pk", flat=True))
        one_by_one = set()
        for made_lead in made:
            loaded = lead_with_owner(made_lead.pk)
            assert loaded is not None
            if lead_access(viewer, loaded).read:
                one_by_one.add(made_lead.pk)
        assert filtered == one_by_one, user.email

"""Reads of leads, their owners and their ledger."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import RowNumber
from django.db.models.sql import Query

from leadbaton.leads.access import OWNER_RELATED
from leadbaton.leads.models import (
    OPEN_STAGES,
    Activity,
    Handoff,
    Inquiry,
    Lead,
    LeadIdentity,
    OwnerKind,
    PossibleDuplicate,
    Stage,
)


class Candidate(NamedTuple):
    """An open lead that used an inquiry's email (`by_email`) or else its phone."""

    lead: Lead
    by_email: bool


def leads_open_for(*, email_key: str, phone: str, lock: bool = False) -> list[Candidate]:
    """Open leads that have used this email or this phone: the candidates to merge an inquiry into. One round trip.

    Leads that used the email come first, then by their own
    email (a lead without one first), then oldest first; at most CANDIDATES of them. Which of them
    is the same person is the caller's decision (pipeline.person, decision 0016).

    With `lock`, the rows are held FOR UPDATE (PostgreSQL) until the transaction ends, and so is
    the phone number: a phone may be shared by several open leads, so no unique index can decide a
    race between two inquiries that bring it. On PostgreSQL a transaction-scoped advisory lock
    keyed on the number is taken first, as a statement of its own sent in the same round trip, so
    the lookup's snapshot is taken once the lock is held: inquiries with the same phone are decided
    one at a time, each seeing what the one before committed. SQLite needs neither: its write
    transaction holds the whole database. The query is written out: every lead runs it, and
    building it through the ORM cost more than running it.
    """
    if not email_key and not phone:
        return []
    email = LeadIdentity.Kind.EMAIL
    params: list[Any] = [email, email_key or None, email, email_key or None, LeadIdentity.Kind.PHONE, phone or None, *OPEN_STAGES]
    sql = _OPEN_FOR_SQL
    phone_locked = bool(lock and phone and connection.vendor == "postgresql")
    if lock and connection.vendor == "postgresql":
        sql += " FOR UPDATE"
    if phone_locked:
        sql = f"SELECT pg_advisory_xact_lock(%s); {sql}"
        params.insert(0, _phone_lock_key(phone))
    # No join: PostgreSQL re-checks only the locked row after waiting on a concurrent change, so
    # joined owner rows could come back empty. The owner is read after the lock, when answering.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if phone_locked:
            cursor.nextset()  # past the lock's empty answer
        rows = cursor.fetchall()
    # As Lead.objects.raw would (it cannot skip the lock's answer): the fields' converters, then the
    # model. `by_email`, the query's last column, is 0 or 1 on SQLite.
    compiler = Query(Lead).get_compiler(connection=connection)
    fields = Lead._meta.concrete_fields
    converters = compiler.get_converters([field.get_col(Lead._meta.db_table) for field in fields])
    names = [field.attname for field in fields]
    return [
        Candidate(Lead.from_db(connection.alias, names, row[:-1]), bool(row[-1]))
        for row in compiler.apply_converters(rows, converters)
    ]


def _phone_lock_key(phone: str) -> int:
    """The advisory lock's key for a phone number: 64 bits of its hash."""
    return int.from_bytes(hashlib.blake2b(f"lead phone {phone}".encode(), digest_size=8).digest(), "big", signed=True)


# A switchboard's number may be shared by many open leads; an inquiry looks at this many of them.
CANDIDATES = 10
_IDENTITY = LeadIdentity._meta.db_table
_OPEN_FOR_SQL = (
    f"SELECT {', '.join(str(field.column) for field in Lead._meta.concrete_fields)},"
    f" id IN (SELECT lead_id FROM {_IDENTITY} WHERE kind = %s AND value = %s) AS by_email"
    f" FROM {Lead._meta.db_table} WHERE id IN ("
    f"SELECT lead_id FROM {_IDENTITY} WHERE (kind = %s AND value = %s) OR (kind = %s AND value = %s))"
    f" AND stage IN ({', '.join(['%s'] * len(OPEN_STAGES))}) ORDER BY by_email DESC, email_key, id LIMIT {CANDIDATES}"
)


def owner_summary(lead: Lead | None) -> dict[str, Any]:
    """The accountable owner as the API shows it (the marketing queue until there is a lead). Uses the loaded team and rep."""
    if lead is None:
        return {"kind": "marketing", "id": None, "name": "Marketing queue"}
    if lead.owner_kind == OwnerKind.REP and lead.owner_rep is not None:
        return {"kind": "rep", "id": lead.owner_rep_id, "name": lead.owner_rep.display_name}
    if lead.owner_kind == OwnerKind.TEAM and lead.owner_team is not None:
        return {"kind": "team", "id": lead.owner_team_id, "name": f"{lead.owner_team.name} queue"}
    return {"kind": "marketing", "id": None, "name": "Marketing queue"}


def stage_counts(where: Q | None = None) -> dict[str, int]:
    """How many leads are in each stage (every stage present, zero if none), of the leads `where` picks (all without). One query."""
    from django.db.models import Count

    rows = Lead.objects.filter(where) if where is not None else Lead.objects.all()
    counts = dict(rows.values_list("stage").annotate(n=Count("id")).values_list("stage", "n"))
    return {stage.value: counts.get(stage.value, 0) for stage in Stage}


def queued_next(team_id: int) -> Lead | None:
    """The lead first in the team's queue, locked: highest score, then longest waiting.

    On PostgreSQL a lead another worker is handing out is skipped, not waited for.
    """
    from django.db import connection

    rows = Lead.objects.filter(owner_kind=OwnerKind.TEAM, owner_team_id=team_id, stage="queued").order_by("-score", "received_at", "id")
    rows = rows.select_for_update(of=("self",), skip_locked=connection.vendor == "postgresql")
    return rows.first()


# The lead's facts as routing rules and the lead definition test them (routing explain re-runs routing on them).
_FACT_FIELDS = (
    "email", "phone", "first_name", "last_name", "company", "company_domain", "free_mail", "title", "company_size",
    "country", "region", "city", "consent_marketing", "product_interest", "campaign", "score", "fields",
)
_INQUIRY_FACTS = ("message", "utm_source", "utm_medium", "utm_campaign")


def lead_facts(lead: Lead) -> dict[str, Any]:
    """The facts intake's routing tests (intake.normalise.Person.facts), read from the lead as it is now.

    What the person asked (message, utm_*) and the source come from the latest inquiry: one query.
    """
    latest = lead.inquiries.order_by("-received_at", "-id").first()
    facts: dict[str, Any] = {name: getattr(lead, name) for name in _FACT_FIELDS}
    facts.update({name: getattr(latest, name) if latest else "" for name in _INQUIRY_FACTS})
    if latest is not None:
        facts.update(product_interest=latest.product_interest or lead.product_interest, campaign=latest.campaign or lead.campaign)
    facts["source"] = latest.source_slug if latest else lead.source_slug
    return facts


def handoffs_of(lead_id: int) -> list[Handoff]:
    """The lead's handoffs, oldest first, with the teams and people they name (one query)."""
    related = ("from_team", "from_rep", "to_team", "to_rep", "by_user")
    return list(Handoff.objects.filter(lead_id=lead_id).select_related(*related).order_by("at", "id"))


def handoff_sides(handoff: Handoff) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(from, to) of a handoff as the API shows an owner; `from` is None for a new lead. Uses the loaded teams and people."""
    return (
        _party(handoff.from_kind, handoff.from_team, handoff.from_rep),
        _party(handoff.to_kind, handoff.to_team, handoff.to_rep) or {"kind": "marketing", "id": None, "name": "Marketing queue"},
    )


def _party(kind: str, team: Any, rep: Any) -> dict[str, Any] | None:
    if kind == OwnerKind.REP and rep is not None:
        return {"kind": "rep", "id": rep.pk, "name": rep.display_name}
    if kind == OwnerKind.TEAM and team is not None:
        return {"kind": "team", "id": team.pk, "name": f"{team.name} queue"}
    if kind == OwnerKind.MARKETING:
        return {"kind": "marketing", "id": None, "name": "Marketing queue"}
    return None


def lead_with_owner(lead_id: int, *, lock: bool = False) -> Lead | None:
    """The lead with what access and the owner summary need loaded (see leads.access.OWNER_RELATED); None if none.

    With `lock`, the lead's row is held FOR UPDATE (PostgreSQL) until the transaction ends.
    """
    rows = Lead.objects.select_related(*OWNER_RELATED)
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.filter(pk=lead_id).first()


# What a list of leads reads of each (the pages' lists and the API's lead summaries): not the form's extra fields, the
# score's reasons or the person's address, and of the owner only the names shown. Django builds a list of 50 in half the time.
LIST_FIELDS = (
    "email", "phone", "first_name", "last_name", "company", "company_domain", "product_interest", "source_slug", "stage", "score",
    "owner_kind", "owner_team__slug", "owner_team__name", "owner_rep__name", "owner_rep__email", "received_at", "last_inquiry_at",
    "owned_at", "first_touch_at", "touch_count", "last_progress_at", "blocker", "next_step", "next_step_at", "value", "currency",
    "lost_reason", "closed_at", "recycle_at",
)


def listed(rows: QuerySet[Lead]) -> QuerySet[Lead]:
    """`rows` read as lists read them: LIST_FIELDS, with the owner's names."""
    return rows.select_related("owner_team", "owner_rep").only(*LIST_FIELDS)


def closed_leads_of_rep(rep_id: int, *, stages: tuple[str, ...], limit: int = 50) -> list[Lead]:
    """A rep's leads in these closed stages, most recently closed first, read as lists read them. One query.
    (Their open leads, most urgent first, are sla.queries.leads_of_rep_by_clock's: urgency is the clocks'.)"""
    rows = listed(Lead.objects.filter(owner_kind=OwnerKind.REP, owner_rep_id=rep_id, stage__in=stages))
    return list(rows.order_by(F("closed_at").desc(nulls_last=True), "-id")[:limit])


def with_owners(leads: list[Lead]) -> list[Lead]:
    """`leads` with their owner team and rep loaded (for owner_summary), those not loaded yet: two queries at most."""
    prefetch_related_objects(leads, "owner_team", "owner_rep")
    return leads


def leads_queued(team_ids: list[int] | None, *, limit: int = 50) -> list[Lead]:
    """Leads waiting in these teams' queues (every team's with None), as the queue hands them out: highest score first,
    then the earliest inquiry. Each with `queued_at`, when it last went into a queue (its latest handoff to a team), read
    as lists read them, without their owner (with_owners loads it). One query."""
    if team_ids is not None and not team_ids:
        return []
    terms: dict[str, Any] = {"limit": limit} | {f"team_{n}": team_id for n, team_id in enumerate(team_ids or ())}
    teams = "" if team_ids is None else " AND l.owner_team_id IN (" + ", ".join(f"%(team_{n})s" for n in range(len(team_ids))) + ")"
    rows = list(Lead.objects.raw(_QUEUED_SQL.format(teams=teams), terms))
    for lead in rows:  # not a field of Lead: the raw query set it on the instance, as SQLite or PostgreSQL gave it
        lead.__dict__["queued_at"] = read_at(lead.__dict__["queued_at"])
    return rows


# LIST_FIELDS as written-out SQL reads them from the leads table as `l`: the owner's ids, not their names.
_COLUMN = {field.name: field.column for field in Lead._meta.concrete_fields}
LIST_COLUMNS = ", ".join(f"l.{_COLUMN[name]}" for name in ("id", "owner_team", "owner_rep", *LIST_FIELDS) if "__" not in name)
_HANDOFF = Handoff._meta.db_table

# The queue's first `limit` leads, and for those only, when each went into a queue. (The ORM's form took 4 ms for 25.)
_QUEUED_SQL = f"""
SELECT q.*, (SELECT h.at FROM {_HANDOFF} h WHERE h.lead_id = q.id AND h.to_kind = '{OwnerKind.TEAM}'
             ORDER BY h.at DESC, h.id DESC LIMIT 1) AS queued_at
FROM (SELECT {LIST_COLUMNS} FROM {Lead._meta.db_table} l
      WHERE l.owner_kind = '{OwnerKind.TEAM}' AND l.stage = '{Stage.QUEUED}'{{teams}}
      ORDER BY l.score DESC, l.received_at, l.id LIMIT %(limit)s) q
ORDER BY q.score DESC, q.received_at, q.id
"""


def read_at(value: Any) -> datetime | None:
    """A time read by written-out SQL outside a model's field: PostgreSQL gives it aware, SQLite as text or naive (UTC both)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def inquiries_of(lead_id: int) -> list[Inquiry]:
    """Everything the lead's person asked, newest first. One query."""
    return list(Inquiry.objects.filter(lead_id=lead_id).order_by("-received_at", "-id"))


def activities_of(lead_id: int) -> list[Activity]:
    """A lead's timeline of touches, notes and outcomes, oldest first, each with who did it. One query."""
    return list(Activity.objects.filter(lead_id=lead_id).select_related("by_user"))


def possible_duplicates_of(lead_id: int) -> list[PossibleDuplicate]:
    """The pairs that say this lead may be the same person as another (decision 0016), with both leads
    and what leads.access needs of them loaded; the other lead oldest first. One query."""
    related = [f"{side}__{name}" for side in ("older", "newer") for name in OWNER_RELATED]
    pairs = PossibleDuplicate.objects.filter(Q(older_id=lead_id) | Q(newer_id=lead_id)).select_related(*related)
    return sorted(pairs, key=lambda pair: pair.other_than(lead_id).pk)


def lead_had_conversation(lead_id: int) -> bool:
    """Has anyone reached the person: a call that connected, or a meeting?"""
    conversation = Q(result=Activity.Result.CONNECTED) | Q(kind=Activity.Kind.MEETING)
    return Activity.objects.filter(conversation, lead_id=lead_id).exists()


def lead_moved_for(lead_id: int, *, reason: str) -> bool:
    """Has the lead changed hands for this reason before?"""
    return Handoff.objects.filter(lead_id=lead_id, reason=reason).exists()


def recent_inquiries(lead_ids: list[int], *, per_lead: int) -> dict[int, list[Inquiry]]:
    """Each lead's latest inquiries, newest first, at most `per_lead` of them (every lead id is a key). One query.
    (A list that shows only what was asked last: latest_asked.)"""
    recent = Window(RowNumber(), partition_by=[F("lead_id")], order_by=[F("received_at").desc(), F("id").desc()])
    found: dict[int, list[Inquiry]] = {lead_id: [] for lead_id in lead_ids}
    rows = Inquiry.objects.filter(lead_id__in=lead_ids).annotate(recent=recent).filter(recent__lte=per_lead).order_by("lead_id", "recent")
    for inquiry in rows:
        found[inquiry.lead_id].append(inquiry)
    return found


class Asked(NamedTuple):
    """What a lead's person asked last (its latest inquiry's message) and where (its source)."""

    message: str
    source_slug: str


def latest_asked(lead_ids: list[int]) -> dict[int, Asked]:
    """For each of these leads, what its person asked last and where; a lead without an inquiry is absent. One query
    (a list of 50 in under a millisecond: each lead's latest inquiry is found through its index, nothing else is read)."""
    if not lead_ids:
        return {}
    terms = {f"lead_{n}": lead_id for n, lead_id in enumerate(lead_ids)}
    with connection.cursor() as cursor:
        cursor.execute(_LATEST_ASKED_SQL.format(leads=", ".join(f"%({name})s" for name in terms)), terms)
        return {lead_id: Asked(message, source_slug) for lead_id, message, source_slug in cursor.fetchall()}


_INQUIRY = Inquiry._meta.db_table
_LATEST_ASKED_SQL = f"""
SELECT i.lead_id, i.message, i.source_slug FROM {_INQUIRY} i
WHERE i.lead_id IN ({{leads}})
  AND i.id = (SELECT x.id FROM {_INQUIRY} x WHERE x.lead_id = i.lead_id ORDER BY x.received_at DESC, x.id DESC LIMIT 1)
"""


SEARCH_LIMIT = 50
PHONE_LIKE = re.compile(r"[\d\s+\-().]+")


def leads_search(text: str, *, where: Q, limit: int = SEARCH_LIMIT) -> list[Lead]:
    """Leads within `where` that match every word of `text` in the name, email, company or phone, latest inquiry first. One query.

    A text that is all digits (spaces, dashes, dots, brackets, a leading + or 0 and a trunk "(0)" ignored), four or more,
    also matches the phone numbers holding them, so "030 1234 567" and "+49 (0)30 1234567" find +49301234567. Every
    stage: a search finds closed leads too. Case is folded as the database folds it (SQLite: ASCII letters only).
    """
    rows = Lead.objects.filter(where)
    digits = "".join(ch for ch in text.replace("(0)", "") if ch.isdigit()).lstrip("0")
    words = Q()
    for word in text.split()[:8]:
        words &= Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word) | Q(company__icontains=word)
    if len(digits) >= 4 and PHONE_LIKE.fullmatch(text.strip()):  # all of it a number, however it is spaced: a phone, or a name such as "Studio 3000"
        words |= Q(phone__contains=digits)
    rows = rows.filter(words)
    return list(listed(rows).order_by("-last_inquiry_at", "-id")[:limit])


def team_leads(team_id: int) -> Q:
    """Every lead of a team, as a filter: waiting in its queue, or owned by a rep it routed them to or who sells for it now."""
    return Q(owner_team_id=team_id) | Q(owner_kind=OwnerKind.REP, owner_rep__rep__team_id=team_id)


def rejections_since(since: datetime, *, reason: str = "", limit: int = 100) -> list[tuple[Lead, Handoff | None]]:
    """Leads sales sent back as not a lead since `since` (of one reason, with `reason`), latest first, each with the
    handoff that sent it back (who, from which team, the words they wrote). Two queries."""
    rows = Lead.objects.filter(stage=Stage.REJECTED, closed_at__gte=since)
    if reason:
        rows = rows.filter(rejected_reason=reason)
    leads = list(rows.order_by("-closed_at", "-id")[:limit])
    handoffs = Handoff.objects.filter(lead_id__in=[lead.pk for lead in leads], reason=Handoff.Reason.REJECTED)
    latest = {handoff.lead_id: handoff for handoff in handoffs.select_related("by_user", "from_team", "from_rep").order_by("at", "id")}
    return [(lead, latest.get(lead.pk)) for lead in leads]


def rejection_counts(since: datetime) -> tuple[dict[str, int], dict[str, int]]:
    """How many leads sales sent back since `since`, by reason and by source, most first. Two queries over (stage, closed_at)."""
    rows = Lead.objects.filter(stage=Stage.REJECTED, closed_at__gte=since)
    by_reason = rows.values_list("rejected_reason").annotate(n=Count("id")).order_by("-n", "rejected_reason")
    by_source = rows.values_list("source_slug").annotate(n=Count("id")).order_by("-n", "source_slug")
    return dict(by_reason), dict(by_source)


def leads_nurtured(*, source_slug: str = "", limit: int = 100) -> list[Lead]:
    """Leads marketing nurtures (not sales-ready, or overflowed from a full team), best score first, then the latest inquiry,
    each with `why_here`: the note of the handoff that sent it to marketing. One query."""
    rows = Lead.objects.filter(stage=Stage.NURTURE, owner_kind=OwnerKind.MARKETING)
    if source_slug:
        rows = rows.filter(source_slug=source_slug)
    # Why it is here, in the words of the handoff that brought it: below the threshold (by how much), or sales-ready
    # but no team could take it.
    why = Handoff.objects.filter(lead_id=OuterRef("pk"), to_kind=OwnerKind.MARKETING).order_by("-at", "-id").values("note")[:1]
    return list(rows.annotate(why_here=Subquery(why)).order_by("-score", "-last_inquiry_at", "-id")[:limit])


def campaigns_seen(since: datetime, *, limit: int = 200) -> list[str]:
    """The campaigns leads received since `since` came with, by name: what a form entering a campaign's cost suggests."""
    return list(Lead.objects.exclude(campaign="").filter(received_at__gte=since).order_by("campaign")
                .values_list("campaign", flat=True).distinct()[:limit])

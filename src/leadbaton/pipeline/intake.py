"""Receiving a lead: from a source's request to an owned, scored lead.

1. Store: the request is saved verbatim and committed (with the per-key rate
   count) before anything else, so a 2xx always means the submission is durable.
2. Process, in one transaction: understand the person, honour the
   idempotency key, find their open lead or create one, judge it against the
   lead definition, choose its stage and owner, record the handoff.
3. Answer with the lead's id, stage, score and owner. Bad input answers 4xx and
   keeps the submission as rejected; an unexpected error keeps it as failed,
   answers 202, and the worker tries again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from leadbaton.accounts.models import Team
from leadbaton.core import clock
from leadbaton.intake import queries as intake_queries
from leadbaton.intake import services as intake
from leadbaton.intake.models import IdempotencyKey, SourceKey, Submission
from leadbaton.intake.normalise import Person, Problem, Unreachable, person_from_payload
from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.models import Handoff, Lead, Owner, Stage
from leadbaton.qualification.queries import definition_active
from leadbaton.qualification.scoring import Verdict, lead_judge
from leadbaton.routing.queries import team_choose

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncomingRequest:
    """What the web layer read off an authenticated intake request."""

    body: bytes
    body_size: int
    body_truncated: bool
    headers: dict[str, str]
    idempotency_key: str
    remote_addr: str


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def lead_receive(*, key: SourceKey, request: IncomingRequest) -> Answer:
    """Store the request, then process it. See the module docstring."""
    now = clock.now()
    payload, rejection, headers = None, None, {}
    with transaction.atomic():
        count, window_left = intake.rate_window_hit(key_id=key.pk, now=now)
        limit = key.source.rate_limit_per_minute or settings.INTAKE_RATE_LIMIT_PER_MINUTE
        if count > limit:
            message = f"this key may send {limit} requests a minute; try again in {window_left} s"
            rejection, headers = (429, [Problem("Authorization", message).as_dict()]), {"Retry-After": str(window_left)}
        elif request.body_truncated:
            message = f"is {request.body_size} bytes; at most {settings.INTAKE_MAX_BODY_BYTES} bytes are accepted"
            rejection = (413, [Problem("body", message).as_dict()])
        elif len(request.idempotency_key) > 255:
            rejection = (422, [Problem("Idempotency-Key", "must be at most 255 characters").as_dict()])
        else:
            payload, problem = body_decode(request.body)
            if problem is not None:
                rejection = (400, [problem.as_dict()])
        submission = intake.submission_store(
            key=key,
            received_at=now,
            headers=request.headers,
            body=request.body,
            body_size=request.body_size,
            body_truncated=request.body_truncated,
            # An over-long key is refused; it is still kept verbatim in the stored headers.
            idempotency_key=request.idempotency_key if len(request.idempotency_key) <= 255 else "",
            remote_addr=request.remote_addr,
            rejection=rejection,
        )
    if rejection is not None:
        status, errors = rejection
        return Answer(status, {"errors": errors, "submission_id": submission.pk}, headers)
    submission.source = key.source
    return submission_process(submission=submission, payload=payload)


def body_decode(body: bytes) -> tuple[Any, Problem | None]:
    """The JSON document in a body, or the problem that says why there is none."""
    if not body.strip():
        return None, Problem("body", "is empty; send the lead as a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, Problem("body", f"is not UTF-8 text (byte {error.start} cannot be read); send JSON encoded as UTF-8")
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return None, Problem("body", f"is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}")


def submission_process(*, submission: Submission, payload: Any = None) -> Answer:
    """Turn a stored submission into a lead. Safe to call again for a failed submission."""
    try:
        with transaction.atomic():
            return _process(submission, payload)
    except Exception:
        log.exception("submission %s failed; it is kept and will be retried", submission.pk)
        with transaction.atomic():
            failed = intake.submission_fail(
                submission_id=submission.pk,
                error=traceback.format_exc(),
                now=clock.now(),
                max_attempts=settings.WORKER_MAX_ATTEMPTS,
            )
        body = {
            "submission_id": failed.pk,
            "status": "failed",
            "message": "The submission is stored; processing it failed and will be retried automatically.",
        }
        return Answer(202, body)


def _process(submission: Submission, payload: Any) -> Answer:
    now = clock.now()
    source = submission.source
    if payload is None:
        payload, problem = body_decode(bytes(submission.body))
        if problem is not None:
            return _reject(submission, 400, [problem], now)
    try:
        person = person_from_payload(payload, default_region=source.default_region)
    except Unreachable as unreachable:
        return _reject(submission, 422, unreachable.problems, now)
    warnings = [problem.as_dict() for problem in person.warnings]

    if submission.idempotency_key:
        earlier = _idempotency_claim(submission, payload, now)
        if earlier is not None:
            return _replay(submission, earlier, payload, warnings, now)

    lead, merged = _lead_for(person, source.slug, now, warnings)
    leads.inquiry_record(lead=lead, values=_inquiry_values(person, source.slug, submission.pk), now=now)
    intake.submission_finish(
        submission=submission,
        status=Submission.Status.PROCESSED,
        http_status=200 if merged else 201,
        now=now,
        lead_id=lead.pk,
        merged=merged,
        warnings=warnings,
    )
    return Answer(200 if merged else 201, lead_answer(lead, submission, merged=merged, warnings=warnings))


def _reject(submission: Submission, status: int, problems: list[Problem], now: datetime) -> Answer:
    errors = [problem.as_dict() for problem in problems]
    intake.submission_finish(submission=submission, status=Submission.Status.REJECTED, http_status=status, now=now, errors=errors)
    return Answer(status, {"errors": errors, "submission_id": submission.pk})


def _body_digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _idempotency_claim(submission: Submission, payload: Any, now: datetime) -> IdempotencyKey | None:
    """Claim the key for this submission, or return the earlier claim. Concurrent claims wait on the unique index."""
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                source_id=submission.source_id,
                key=submission.idempotency_key,
                body_digest=_body_digest(payload),
                submission=submission,
                created_at=now,
            )
        return None
    except IntegrityError:
        earlier = intake_queries.idempotency_find(source_id=submission.source_id, key=submission.idempotency_key)
        if earlier is None:  # the other claim rolled back after all; this one is first
            raise
        return earlier


def _replay(submission: Submission, earlier: IdempotencyKey, payload: Any, warnings: list[dict[str, str]], now: datetime) -> Answer:
    if earlier.body_digest != _body_digest(payload):
        problem = Problem(
            "Idempotency-Key",
            f"was already used with a different body (submission {earlier.submission_id}); "
            "use a new key for a new lead, or resend the same body",
        )
        return _reject(submission, 409, [problem], now)
    original = earlier.submission
    lead = Lead.objects.select_related("owner_team", "owner_rep").get(pk=earlier.submission.lead_id or 0)
    intake.submission_finish(
        submission=submission,
        status=Submission.Status.PROCESSED,
        http_status=200,
        now=now,
        lead_id=lead.pk,
        warnings=warnings,
        replay_of_id=original.pk,
    )
    answer = lead_answer(lead, submission, merged=original.merged, warnings=warnings)
    answer["replay_of"] = original.pk
    return Answer(200, answer, {"Idempotent-Replayed": "true"})


def _lead_for(person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> tuple[Lead, bool]:
    """The person's open lead with this inquiry merged in, or a new lead. (lead, merged)."""
    existing = lead_queries.lead_open_for(email_key=person.email_key, phone=person.phone, lock=True)
    if existing is None:
        try:
            with transaction.atomic():
                return _lead_create(person, source_slug, now, warnings), False
        except IntegrityError:
            # Someone else created this person's lead at the same instant: merge into theirs.
            existing = lead_queries.lead_open_for(email_key=person.email_key, phone=person.phone, lock=True)
            if existing is None:
                raise
    _lead_merge(existing, person, source_slug, now, warnings)
    return existing, True


def _lead_create(person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> Lead:
    facts = person.facts(source_slug)
    verdict = lead_judge(facts, definition_active())
    stage, owner, reason, note, rule, team = _placement(verdict, facts, warnings)
    lead = leads.lead_create(
        values=_lead_values(person),
        stage=stage,
        owner=owner,
        score=verdict.score,
        score_reasons=verdict.reasons,
        definition_version=verdict.version,
        source_slug=source_slug,
        now=now,
    )
    lead.owner_team = team  # already loaded by routing; saves a query when answering
    leads.handoff_record(lead=lead, to=owner, at=now, reason=reason, note=note, rule=rule)
    return lead


def _lead_merge(lead: Lead, person: Person, source_slug: str, now: datetime, warnings: list[dict[str, str]]) -> None:
    values = _lead_values(person)
    contact_free = {}
    if (person.email and not lead.email) or (person.phone and not lead.phone):
        contact_free = lead_queries.contact_held_elsewhere(lead_id=lead.pk, email_key=person.email_key, phone=person.phone)
    leads.lead_absorb(lead=lead, values=values, contact_free=contact_free, now=now)
    facts = {**person.facts(source_slug), **{name: getattr(lead, name) for name in leads.PERSON_FIELDS}}
    facts.update(email=lead.email, phone=lead.phone, fields=lead.fields)
    verdict = lead_judge(facts, definition_active())
    leads.lead_rescore(lead=lead, score=verdict.score, reasons=verdict.reasons, definition_version=verdict.version)
    if lead.stage == Stage.NURTURE and verdict.sales_ready:
        stage, owner, _, note, rule, team = _placement(verdict, facts, warnings)
        if stage != Stage.NURTURE:
            leads.lead_set_stage(lead=lead, stage=stage, now=now)
            leads.lead_set_owner(lead=lead, to=owner, at=now, reason=Handoff.Reason.QUALIFIED, note=note, rule=rule)
            lead.owner_team = team


Placement = tuple[str, Owner, str, str, str, "Team | None"]


def _placement(verdict: Verdict, facts: dict[str, Any], warnings: list[dict[str, str]]) -> Placement:
    """(stage, owner, handoff reason, note, rule, team) for a judged lead."""
    definition = f"lead definition v{verdict.version}" if verdict.version else "no lead definition"
    if not verdict.sales_ready:
        note = f"score {verdict.score} is below the sales-ready threshold" + (f" ({'; '.join(verdict.reasons)})" if verdict.reasons else "")
        return Stage.NURTURE, Owner.marketing(), Handoff.Reason.CREATED, note, definition, None
    choice = team_choose(facts)
    if choice is None:
        warnings.append(
            Problem("owner", "the lead is sales-ready but no sales team is configured; it waits in the marketing queue").as_dict()
        )
        return Stage.NURTURE, Owner.marketing(), Handoff.Reason.CREATED, "sales-ready, but no team to hand it to", definition, None
    note = f"sales-ready with score {verdict.score}; queued for {choice.team.name} by {choice.rule}"
    return Stage.QUEUED, Owner.team(choice.team.pk), Handoff.Reason.ROUTED, note, f"{definition}; {choice.rule}", choice.team


def _lead_values(person: Person) -> dict[str, Any]:
    return {
        "email": person.email,
        "email_key": person.email_key,
        "phone": person.phone,
        **{name: getattr(person, name) for name in leads.PERSON_FIELDS},
        "fields": person.fields,
    }


def _inquiry_values(person: Person, source_slug: str, submission_id: int) -> dict[str, Any]:
    return {
        "source_slug": source_slug,
        "submission_id": submission_id,
        "message": person.message,
        "product_interest": person.product_interest,
        "campaign": person.campaign,
        "utm_source": person.utm_source,
        "utm_medium": person.utm_medium,
        "utm_campaign": person.utm_campaign,
        "contact": person.contact(),
        "fields": person.fields,
    }


def lead_answer(lead: Lead, submission: Submission, *, merged: bool, warnings: list[dict[str, str]]) -> dict[str, Any]:
    """The body of a 2xx intake answer."""
    return {
        "id": lead.pk,
        "submission_id": submission.pk,
        "stage": lead.stage,
        "score": lead.score,
        "merged": merged,
        "owner": lead_queries.owner_summary(lead),
        "received_at": submission.received_at.isoformat().replace("+00:00", "Z"),
        "warnings": warnings,
    }


def submission_replay(*, submission_id: int) -> Answer:
    """Process a submission again, as staff asked.

    A failed submission is processed in place. Any other is copied to a new
    submission (replay_of the original) and processed, so the log stays a
    true record of what happened each time.
    """
    original = Submission.objects.select_related("source").get(pk=submission_id)
    if original.status == Submission.Status.FAILED:
        return submission_process(submission=original)
    now = clock.now()
    with transaction.atomic():
        copy = Submission.objects.create(
            source=original.source,
            key=original.key,
            received_at=now,
            remote_addr=original.remote_addr,
            headers=original.headers,
            body=original.body,
            body_size=original.body_size,
            body_truncated=original.body_truncated,
            idempotency_key=original.idempotency_key,
            replay_of=original,
        )
    copy.source = original.source
    if copy.body_truncated:
        return _reject_now(copy, 413, Problem("body", "was too large when it arrived; only its start was kept"))
    return submission_process(submission=copy)


def _reject_now(submission: Submission, status: int, problem: Problem) -> Answer:
    with transaction.atomic():
        return _reject(submission, status, [problem], clock.now())


def failed_submissions_retry(*, now: datetime, lease: timedelta, limit: int = 20) -> int:
    """Claim and process failed submissions whose next try is due. Returns how many were tried."""
    tried = 0
    for submission_id in intake_queries.submissions_due(now=now, limit=limit):
        with transaction.atomic():
            claimed = intake.submission_claim(submission_id=submission_id, now=now, lease=lease)
        if not claimed:
            continue
        submission = Submission.objects.select_related("source").get(pk=submission_id)
        submission_process(submission=submission)
        tried += 1
    return tried

"""Receiving a lead: from a source's request to an owned, scored lead.

1. Store: the request is saved verbatim and committed, with the per-key rate
   count and its Idempotency-Key claim, before anything else. From here on
   nothing is lost: the submission is claimed by this process while it is
   processed, and one left unprocessed by a crash is taken over by the worker
   as soon as the process is seen gone (see core.claims).
2. Process, in one transaction: understand the person, find their open lead or
   create one, judge it against the lead definition, choose its stage and
   owner, record the handoff (see pipeline.person).
3. Say what happened (a Submission.Outcome) with the lead's id, stage, score and
   owner. Bad input is refused and keeps the submission as rejected; an
   unexpected error keeps it as failed (pending) and the worker tries again.
   The outcome is all this module says: the API answers it with an HTTP status.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from leadbaton.core import clock
from leadbaton.core.refusals import Conflict
from leadbaton.intake import queries as intake_queries
from leadbaton.intake import services as intake
from leadbaton.intake.models import SourceKey, Submission
from leadbaton.intake.normalise import Problem, Unreachable, person_from_payload
from leadbaton.leads import queries as lead_queries
from leadbaton.leads import services as leads
from leadbaton.leads.models import Lead
from leadbaton.pipeline.announce import lead_announce, queue_announce
from leadbaton.pipeline.person import inquiry_values, lead_for_person

log = logging.getLogger(__name__)

# How long a retry waits for the first request with the same Idempotency-Key to finish.
REPLAY_WAIT_SECONDS = 5.0


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
class Received:
    """What became of a submission: its outcome (Submission.Outcome) and what the source is told.

    `body` is the lead (id, stage, score, owner, warnings) or, for a refusal, the problems
    (`errors`); `retry_after`: seconds until the source may send again (rate limited).
    """

    outcome: str
    body: dict[str, Any]
    retry_after: int | None = None


Outcome = Submission.Outcome


def lead_receive(*, key: SourceKey, request: IncomingRequest) -> Received:
    """Store the request, then process it. See the module docstring."""
    now = clock.now()
    payload, problem = (None, None) if request.body_truncated else body_decode(request.body)
    rejection: tuple[str, list[dict[str, str]]] | None = None
    retry_after = None
    earlier = None
    with transaction.atomic():
        count, window_left = intake.rate_window_hit(key_id=key.pk, now=now)
        limit = key.source.rate_limit_per_minute or settings.INTAKE_RATE_LIMIT_PER_MINUTE
        if count > limit:
            message = f"this key may send {limit} requests a minute; try again in {window_left} s"
            rejection, retry_after = (Outcome.RATE_LIMITED, [Problem("Authorization", message).as_dict()]), window_left
        elif request.body_truncated:
            message = f"is {request.body_size} bytes; at most {settings.INTAKE_MAX_BODY_BYTES} bytes are accepted"
            rejection = (Outcome.TOO_LARGE, [Problem("body", message).as_dict()])
        elif len(request.idempotency_key) > 255:
            rejection = (Outcome.INVALID, [Problem("Idempotency-Key", "must be at most 255 characters").as_dict()])
        elif problem is not None:
            rejection = (Outcome.MALFORMED, [problem.as_dict()])
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
            retry_after=timedelta(seconds=settings.WORKER_LEASE_SECONDS),
        )
        if rejection is None and submission.idempotency_key:
            digest = body_digest(payload)
            earlier = intake.idempotency_claim(submission=submission, body_digest=digest, now=now)
            if earlier is not None and earlier.body_digest != digest:
                message = (
                    f"was already used with a different body (submission {earlier.submission_id}); "
                    "use a new key for a new lead, or resend the same body"
                )
                rejection = (Outcome.KEY_REUSED, [Problem("Idempotency-Key", message).as_dict()])
                intake.submission_finish(submission=submission, outcome=Outcome.KEY_REUSED, now=now, errors=rejection[1])
    if rejection is not None:
        outcome, errors = rejection
        return Received(outcome, {"errors": errors, "submission_id": submission.pk}, retry_after)
    submission.source = key.source
    if earlier is not None:
        _wait_until_finished(earlier.submission_id, lease=timedelta(seconds=settings.WORKER_LEASE_SECONDS))
    return submission_process(submission=submission, payload=payload, fresh=True)


def lead_enter(*, values: dict[str, str], by_id: int, by_email: str, remote_addr: str = "", form_token: str = "") -> Received:
    """A lead staff typed in (C1: a phone call, a business card), taken exactly the intake path under the
    built-in `manual` source: stored as a submission first, then normalised, matched to the person,
    scored, routed and announced like a lead from any form. Empty values are left out.

    Stricter than a form on a website in one way: an email or phone that cannot be used is refused
    (INVALID, nothing stored) rather than dropped with a warning, since the person typing is there
    to correct it.

    `form_token` (one per form shown) makes a form sent twice with the same values (a double click, a reload
    that posts again) one lead: the second answers as the first (REPLAYED), as an Idempotency-Key does. Changed
    values are a new entry."""
    now = clock.now()
    payload = {name: value.strip() for name, value in values.items() if isinstance(value, str) and value.strip()}
    source = intake.manual_source(now=now)
    try:
        contact = [problem for problem in person_from_payload(payload, default_region=source.default_region).warnings
                   if problem.field in ("email", "phone")]
    except Unreachable as unreachable:
        contact = unreachable.problems
    if contact:
        return Received(Outcome.INVALID, {"errors": [Problem(problem.field, problem.message.split("; the lead was kept")[0]).as_dict()
                                                     for problem in contact]})
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    digest = body_digest(payload)
    # Per person and per form, and the values: the same form sent again is a retry; changed values are another entry.
    key = f"entry:{by_id}:{form_token[:64]}:{digest[:16]}" if form_token.strip() else ""
    earlier = None
    with transaction.atomic():
        submission = intake.submission_store(
            key=None, source=source, received_at=now, headers={"Entered-By": by_email, "Entered-By-Id": str(by_id)}, body=body,
            body_size=len(body), body_truncated=False, idempotency_key=key, remote_addr=remote_addr,
            retry_after=timedelta(seconds=settings.WORKER_LEASE_SECONDS),
        )
        if key:
            earlier = intake.idempotency_claim(submission=submission, body_digest=digest, now=now)
    submission.source = source
    if earlier is not None:
        _wait_until_finished(earlier.submission_id, lease=timedelta(seconds=settings.WORKER_LEASE_SECONDS))
    return submission_process(submission=submission, payload=payload, fresh=True)


def body_decode(body: bytes) -> tuple[Any, Problem | None]:
    """The JSON document in a body, or the problem that says why there is none. Never raises."""
    if not body.strip():
        return None, Problem("body", "is empty; send the lead as a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, Problem("body", f"is not UTF-8 text (byte {error.start} cannot be read); send JSON encoded as UTF-8")
    try:
        return json.loads(text, parse_constant=_refuse_constant), None
    except json.JSONDecodeError as error:
        return None, Problem("body", f"is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}")
    except ValueError as error:
        return None, Problem("body", f"is not valid JSON: {error}")
    except RecursionError:
        return None, Problem("body", "is nested too deeply to read; send a flat JSON object")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; send a number or a string")


def body_digest(payload: Any) -> str:
    """Equal for equal JSON documents, whatever their key order or spacing."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", errors="surrogatepass")).hexdigest()


def _wait_until_finished(submission_id: int, *, lease: timedelta) -> None:
    """Give the first request with an Idempotency-Key a moment to finish, so its retry can answer with the lead.

    If the process that received the first request is gone (a crash cut it
    off), its claim is free: this request takes the submission over and
    processes it now instead of leaving it to the worker.
    """
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while time.monotonic() < deadline:
        if intake_queries.submission_status(submission_id) != Submission.Status.RECEIVED:
            return
        with transaction.atomic():
            taken = intake.submission_claim(submission_id=submission_id, now=clock.now(), lease=lease)
        if taken:
            submission_process(submission=Submission.objects.select_related("source").get(pk=submission_id))
            return
        time.sleep(0.02)


def submission_process(*, submission: Submission, payload: Any = None, fresh: bool = False) -> Received:
    """Turn a stored submission into a lead. Idempotent: a finished submission answers as it did.

    `fresh`: the caller stored it a moment ago and no one else can have it yet
    (the worker only takes it after a lease), so it need not be read again.
    """
    try:
        with transaction.atomic():
            return _process(submission if fresh else None, submission.pk, payload)
    except Exception:
        log.exception("submission %s failed; it is kept and will be retried", submission.pk)
        with transaction.atomic():
            failed = intake.submission_fail(
                submission_id=submission.pk,
                error=traceback.format_exc(),
                now=clock.now(),
                max_attempts=settings.WORKER_MAX_ATTEMPTS,
            )
        return _pending_answer(failed, "Processing failed unexpectedly; the submission is kept and will be retried automatically.")


def _process(fresh: Submission | None, submission_id: int, payload: Any) -> Received:
    now = clock.now()
    # Unless just stored, locked and read again: the worker and a staff replay may reach the same submission.
    submission = fresh or Submission.objects.select_for_update(of=("self",)).select_related("source").get(pk=submission_id)
    if submission.status in (Submission.Status.PROCESSED, Submission.Status.REJECTED):
        return answer_for(submission)
    source = submission.source
    if payload is None:
        payload, problem = body_decode(bytes(submission.body))
        if problem is not None:
            return _reject(submission, Outcome.MALFORMED, [problem], now)
    try:
        person = person_from_payload(payload, default_region=source.default_region)
    except Unreachable as unreachable:
        return _reject(submission, Outcome.UNREACHABLE, unreachable.problems, now)
    warnings = [problem.as_dict() for problem in person.warnings]

    if submission.idempotency_key:
        claim = intake_queries.idempotency_find(source_id=source.pk, key=submission.idempotency_key)
        if claim is not None and claim.submission_id != submission.pk:
            return _replay(submission, claim.submission, warnings, now)

    result = lead_for_person(person=person, source_slug=source.slug, now=now, warnings=warnings)
    lead, merged = result.lead, result.merged
    inquiry = leads.inquiry_record(lead=lead, values=inquiry_values(person, source.slug, submission.pk), now=now)
    lead_announce(lead=lead, events=result.events, now=now, latest=inquiry)
    if result.queue_alert is not None:
        team, why = result.queue_alert
        queue_announce(lead=lead, team=team, why=why, now=now)
    outcome = Outcome.MERGED if merged else Outcome.CREATED
    intake.submission_finish(
        submission=submission,
        outcome=outcome,
        now=now,
        lead_id=lead.pk,
        merged=merged,
        warnings=warnings,
    )
    return Received(outcome, lead_answer(lead, submission, merged=merged, warnings=warnings))


def _reject(submission: Submission, outcome: str, problems: list[Problem], now: datetime) -> Received:
    errors = [problem.as_dict() for problem in problems]
    intake.submission_finish(submission=submission, outcome=outcome, now=now, errors=errors)
    return Received(outcome, {"errors": errors, "submission_id": submission.pk})


def _replay(submission: Submission, original: Submission, warnings: list[dict[str, str]], now: datetime) -> Received:
    """A retry with the same Idempotency-Key and body: answer with the first request's lead, add nothing."""
    if original.status != Submission.Status.PROCESSED or original.lead_id is None:
        intake.submission_finish(
            submission=submission, outcome=Outcome.PENDING, now=now, warnings=warnings, replay_of_id=original.pk,
        )
        return _pending_answer(
            submission,
            _first_request_pending(original),
            replay_of=original.pk,
            status=original.status,
        )
    lead = Lead.objects.select_related("owner_team", "owner_rep").get(pk=original.lead_id)
    intake.submission_finish(
        submission=submission, outcome=Outcome.REPLAYED, now=now,
        lead_id=lead.pk, warnings=warnings, replay_of_id=original.pk,
    )
    answer = lead_answer(lead, submission, merged=original.merged, warnings=warnings)
    answer["replay_of"] = original.pk
    return Received(Outcome.REPLAYED, answer)


def answer_for(submission: Submission) -> Received:
    """What a finished submission was told, rebuilt from what was stored."""
    if submission.status == Submission.Status.REJECTED:
        return Received(submission.outcome or Outcome.INVALID, {"errors": submission.errors, "submission_id": submission.pk})
    if submission.lead_id is None and submission.replay_of_id is not None:
        original = Submission.objects.get(pk=submission.replay_of_id)
        if original.lead_id is None:
            return _pending_answer(submission, _first_request_pending(original), replay_of=original.pk, status=original.status)
        submission.lead_id, submission.merged = original.lead_id, original.merged  # it has its lead now: answer with it
    if submission.lead_id is None:
        return _pending_answer(submission, "The submission has no lead.")
    lead = Lead.objects.select_related("owner_team", "owner_rep").get(pk=submission.lead_id)
    body = lead_answer(lead, submission, merged=submission.merged, warnings=submission.warnings)
    if submission.replay_of_id:
        body["replay_of"] = submission.replay_of_id
    return Received(submission.outcome or Outcome.MERGED, body)


def lead_answer(lead: Lead, submission: Submission, *, merged: bool, warnings: list[dict[str, str]]) -> dict[str, Any]:
    """What the source is told of its lead (created, merged or replayed)."""
    return {
        "id": lead.pk,
        "submission_id": submission.pk,
        "stage": lead.stage,
        "score": lead.score,
        "merged": merged,
        "owner": lead_queries.owner_summary(lead),
        "received_at": _iso(submission.received_at),
        "warnings": warnings,
    }


def _first_request_pending(original: Submission) -> str:
    """The message of a retry whose first request has no lead yet; it agrees with the answer's `status` (the first request's)."""
    if original.status == Submission.Status.FAILED:
        return (
            f"The first request with this Idempotency-Key (submission {original.pk}) failed and is retried automatically; "
            "send this request again later to get its lead."
        )
    return (
        f"The first request with this Idempotency-Key (submission {original.pk}) is still being processed; "
        "send this request again in a moment to get its lead."
    )


def _pending_answer(submission: Submission, message: str, *, replay_of: int | None = None, status: str | None = None) -> Received:
    """Pending: stored, no lead yet. Until a lead exists the marketing queue answers for the submission.

    `status` is where the lead's processing stands: the submission's own, or for a retry its first request's.
    """
    body: dict[str, Any] = {
        "id": None,
        "submission_id": submission.pk,
        "stage": None,
        "score": None,
        "merged": False,
        "owner": lead_queries.owner_summary(None),
        "received_at": _iso(submission.received_at),
        "warnings": submission.warnings,
        "status": status or submission.status,
        "message": message,
    }
    if replay_of is not None:
        body["replay_of"] = replay_of
    return Received(Outcome.PENDING, body)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def submission_replay(*, submission_id: int) -> Received:
    """Process a submission again, as staff asked.

    A submission that has not finished (failed, or left received by a crash) is
    claimed and processed in place; Conflict while another process holds it
    (a request or the worker processing it now). Any other is copied to a new
    submission (replay_of the original) and processed, so the log stays a true
    record of each attempt.
    """
    original = Submission.objects.select_related("source").get(pk=submission_id)
    if original.status in (Submission.Status.FAILED, Submission.Status.RECEIVED):
        lease = timedelta(seconds=settings.WORKER_LEASE_SECONDS)
        with transaction.atomic():
            claimed = intake.submission_claim(submission_id=original.pk, now=clock.now(), lease=lease, due_only=False)
        if claimed:
            return submission_process(submission=original)
        original.refresh_from_db(fields=["status"])
        if original.status in (Submission.Status.FAILED, Submission.Status.RECEIVED):
            raise Conflict.one("submission_id", "this submission is being processed; try again in a moment")
        # it finished meanwhile: replayed as a copy, like any finished submission
    now = clock.now()
    with transaction.atomic():
        copy = intake.submission_copy(original=original, now=now)
        if copy.idempotency_key:  # a copy of a request that held a key is a retry of it, unless that one was refused
            payload, _ = body_decode(bytes(copy.body))
            intake.idempotency_claim(submission=copy, body_digest=body_digest(payload), now=now)
        if copy.body_truncated:
            problem = Problem("body", "was too large when it arrived; only its start was kept")
            return _reject(copy, Outcome.TOO_LARGE, [problem], now)
    return submission_process(submission=copy)


def submissions_retry(submission_ids: list[int], now: datetime) -> int:
    """Process submissions the worker claimed (core.due): failed ones whose next try is due, and ones a crash left received."""
    for submission_id in submission_ids:
        submission_process(submission=Submission.objects.select_related("source").get(pk=submission_id))
    return len(submission_ids)

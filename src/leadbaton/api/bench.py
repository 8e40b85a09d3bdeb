"""Floors for bench/intake.py: what a request costs before LeadBaton does any work.

Mounted under /api/v1/_bench only when LEADBATON_BENCH_ENDPOINTS=1; never on in
production. `noop` is the framework floor (Django's middleware, ninja's routing,
a JSON answer). `orm` is the ORM floor: the rows an intake writes, with plain
values and nothing else — no normalising, scoring, routing or rate counting.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from ninja import Router

from leadbaton.core import clock
from leadbaton.core.tokens import secret_prefix
from leadbaton.intake.models import SourceKey, Submission
from leadbaton.leads.models import OPEN_STAGES, Handoff, Inquiry, Lead, OwnerKind, Stage

router = Router(tags=["bench"])


@router.post("/noop", include_in_schema=False)
def noop(request: HttpRequest) -> JsonResponse:
    """Parse nothing, write nothing, answer a tiny JSON."""
    return JsonResponse({"ok": True})


def _text(payload: dict[str, Any], name: str, limit: int = 200) -> str:
    value = payload.get(name)
    return str(value)[:limit] if value is not None else ""


@router.post("/orm", include_in_schema=False)
def orm(request: HttpRequest) -> JsonResponse:
    """The intake's rows through the ORM: 2 indexed SELECTs and 4 INSERTs in one transaction.

    Send the same JSON as to POST /leads, with the source key as a Bearer token.
    A person who already has an open lead gets no second lead (the inquiry and
    handoff go onto theirs) and the answer is 200.
    """
    body = request.body
    payload = json.loads(body)
    if not isinstance(payload, dict):
        return JsonResponse({"errors": [{"field": "body", "message": "must be a JSON object"}]}, status=400)
    plaintext = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    prefix = secret_prefix(plaintext, "src") or ""
    email = _text(payload, "email", 254)
    email_key = email.lower()
    phone = _text(payload, "phone", 20)
    if not email_key and not phone:
        return JsonResponse({"errors": [{"field": "email", "message": "send an email or phone"}]}, status=400)
    now = clock.now()
    with transaction.atomic():
        key = SourceKey.objects.select_related("source").filter(prefix=prefix, revoked_at__isnull=True).first()
        if key is None:
            return JsonResponse({"errors": [{"field": "Authorization", "message": "unknown key"}]}, status=401)
        lead = Lead.objects.filter(email_key=email_key, stage__in=OPEN_STAGES).first() if email_key else None
        submission = Submission.objects.create(
            source_id=key.source_id,
            key=key,
            received_at=now,
            remote_addr=request.META.get("REMOTE_ADDR", "")[:64],
            headers={"Content-Type": request.headers.get("Content-Type", "")},
            body=body,
            body_size=len(body),
            status=Submission.Status.PROCESSED,
            outcome=Submission.Outcome.CREATED,
            http_status=201,
            processed_at=now,
        )
        created = lead is None
        if lead is None:
            lead = Lead.objects.create(
                email=email,
                email_key=email_key,
                phone=phone,
                first_name=_text(payload, "first_name", 100),
                last_name=_text(payload, "last_name", 100),
                title=_text(payload, "title"),
                company=_text(payload, "company"),
                country=_text(payload, "country", 2),
                product_interest=_text(payload, "product_interest"),
                campaign=_text(payload, "campaign"),
                source_slug=key.source.slug,
                stage=Stage.NURTURE,
                owner_kind=OwnerKind.MARKETING,
                received_at=now,
                last_inquiry_at=now,
                updated_at=now,
            )
        Inquiry.objects.create(
            lead=lead,
            received_at=now,
            source_slug=key.source.slug,
            submission_id=submission.pk,
            message=_text(payload, "message", 20_000),
            product_interest=_text(payload, "product_interest"),
            utm_source=_text(payload, "utm_source"),
            utm_medium=_text(payload, "utm_medium"),
            utm_campaign=_text(payload, "utm_campaign"),
            contact={"email": email, "first_name": _text(payload, "first_name", 100)},
        )
        Handoff.objects.create(
            lead=lead, at=now, to_kind=OwnerKind.MARKETING, reason=Handoff.Reason.CREATED, note="bench", rule="bench"
        )
    return JsonResponse({"id": lead.pk}, status=201 if created else 200)

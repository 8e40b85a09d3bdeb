"""POST /api/v1/leads: a source sends a lead."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from ninja import Router

from leadbaton.api.auth import SourceKeyScheme
from leadbaton.api.schemas import ErrorsOut, IntakeErrorsOut, LeadAccepted, LeadPending
from leadbaton.core.cache import config_scope
from leadbaton.intake.models import ANSWER_CODES, Submission
from leadbaton.intake.normalise import LeadIn
from leadbaton.intake.queries import source_key_find
from leadbaton.intake.services import submission_headers
from leadbaton.pipeline.intake import IncomingRequest, Received, lead_receive

router = Router(tags=["intake"])
log = logging.getLogger(__name__)

REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": LeadIn.model_json_schema()}},
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "Retries with the same key and body answer with the first result instead of a second lead.",
        }
    ],
}


@router.post(
    "/leads",
    auth=SourceKeyScheme(),
    response={
        200: LeadAccepted, 201: LeadAccepted, 202: LeadPending, 401: ErrorsOut,
        frozenset({400, 409, 413, 422, 429}): IntakeErrorsOut,
    },
    openapi_extra=REQUEST_BODY,
    summary="Send a lead",
)
def lead_post(request: HttpRequest) -> JsonResponse:
    """Store the inquiry, recognise the person, score and place the lead; answer with its owner.

    `201` a new lead; `200` merged into the person's open lead, or a replay of an
    earlier request with the same Idempotency-Key; `202` stored but processing
    failed (it is retried automatically).
    """
    with config_scope():  # one read of the configuration generation for the whole request
        return _lead_receive(request)


def _lead_receive(request: HttpRequest) -> JsonResponse:
    authorization = request.headers.get("Authorization")
    key = source_key_find(authorization)
    if key is None:
        reason = (
            "is missing; send Authorization: Bearer <source key>"
            if not authorization
            else "is not a live source key (unknown or revoked); ask an admin for a key with `leadbaton sources add`"
        )
        log.warning("intake refused from %s: Authorization %s", request.META.get("REMOTE_ADDR"), reason.split(";")[0])
        return JsonResponse({"errors": [{"field": "Authorization", "message": reason}]}, status=401,
                            headers={"WWW-Authenticate": 'Bearer realm="leadbaton"'})
    limit = settings.INTAKE_MAX_BODY_BYTES
    size, body = _body_read(request, limit)
    received = lead_receive(
        key=key,
        request=IncomingRequest(
            body=body[:limit],
            body_size=size,
            body_truncated=len(body) > limit,
            headers=submission_headers(request.META),
            idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
            remote_addr=request.META.get("REMOTE_ADDR", ""),
        ),
    )
    return intake_answer(received)


def intake_answer(received: Received) -> JsonResponse:
    """The HTTP answer to what became of a submission: the status of its outcome (intake.models.ANSWER_CODES,
    the same the submission log keeps), `Retry-After` when rate limited, `Idempotent-Replayed` for a retry."""
    headers = {}
    if received.retry_after is not None:
        headers["Retry-After"] = str(received.retry_after)
    if received.outcome == Submission.Outcome.REPLAYED:
        headers["Idempotent-Replayed"] = "true"
    return JsonResponse(received.body, status=ANSWER_CODES[received.outcome], headers=headers)


def _body_read(request: HttpRequest, limit: int) -> tuple[int, bytes]:
    """(the size of the body the client sent, its first limit + 1 bytes at most).

    The size is counted as read, never taken from Content-Length: a client may
    declare more than it sends. Past the limit the rest is only counted; the
    server has already buffered it, up to its own, larger limit (cli/server.py).
    A chunked body has no Content-Length; Django then reads nothing, so it is
    read from the server's input stream, which the server ends at the last chunk.
    """
    declared = request.META.get("CONTENT_LENGTH")
    chunked = not declared and request.META.get("wsgi.input_terminated")
    stream: Any = request.META["wsgi.input"] if chunked else request
    body = stream.read(limit + 1)
    size = len(body)
    if size > limit:
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
    return size, body

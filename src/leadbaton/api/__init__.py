"""The HTTP API, version 1: ninja routers that parse, call a use case or query, and answer."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from leadbaton.api.auth import Forbidden
from leadbaton.api.intake import router as intake_router
from leadbaton.api.ownership import router as ownership_router
from leadbaton.api.staff import router as staff_router

api = NinjaAPI(
    title="LeadBaton API",
    version="1",
    description="Send leads in; read what happened to them. See docs/api.md.",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("", intake_router)
api.add_router("", staff_router)
api.add_router("", ownership_router)
api.add_router("", "leadbaton.api.webhooks.router")
api.add_router("", "leadbaton.api.routing.router")
api.add_router("", "leadbaton.api.rep.router")

if settings.BENCH_ENDPOINTS:
    from leadbaton.api.bench import router as bench_router

    api.add_router("/_bench", bench_router)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = "is missing or not a live personal token; send Authorization: Bearer <token> or sign in"
    return api.create_response(request, {"errors": [{"field": "Authorization", "message": message}]}, status=401)


@api.exception_handler(Forbidden)
def _forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
    return api.create_response(request, {"errors": [{"field": "role", "message": str(exc)}]}, status=403)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path")]
        errors.append({"field": ".".join(location) or "body", "message": str(error.get("msg", "is not valid"))})
    return api.create_response(request, {"errors": errors}, status=422)

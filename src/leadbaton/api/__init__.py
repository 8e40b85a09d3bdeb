"""The HTTP API, version 1: ninja routers that parse, call a use case or query, and answer."""

from __future__ import annotations

from django.conf import settings
from ninja import NinjaAPI

from leadbaton.api.errors import JsonObjectParser, errors_install
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
    parser=JsonObjectParser(),
)
api.add_router("", intake_router)
api.add_router("", staff_router)
api.add_router("", ownership_router)
api.add_router("", "leadbaton.api.webhooks.router")
api.add_router("", "leadbaton.api.routing.router")
api.add_router("", "leadbaton.api.rep.router")
api.add_router("", "leadbaton.api.sla.router")
api.add_router("", "leadbaton.api.reps.router")
api.add_router("", "leadbaton.api.reports.router")
api.add_router("", "leadbaton.api.marketing.router")
api.add_router("", "leadbaton.api.coaching.router")

if settings.BENCH_ENDPOINTS:
    from leadbaton.api.bench import router as bench_router

    api.add_router("/_bench", bench_router)

errors_install(api)

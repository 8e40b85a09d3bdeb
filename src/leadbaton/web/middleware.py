"""What every answer but a static file carries, what no page form may send, and one read of the configuration per read request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from leadbaton.core.cache import config_scope


def no_store(get_response: Callable[[HttpRequest], HttpResponseBase]) -> Callable[[HttpRequest], HttpResponseBase]:
    """Pages and API answers carry people's details: no browser cache or proxy may keep a copy.

    Sits below WhiteNoise in MIDDLEWARE, so the static files WhiteNoise answers stay cacheable.
    """

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        patch_cache_control(response, private=True, no_store=True)
        return response

    return middleware


NUL_MESSAGE = "contains a NUL character (\\x00), which cannot be stored; remove it and send the form again"


def nul_refused(get_response: Callable[[HttpRequest], HttpResponseBase]) -> Callable[[HttpRequest], HttpResponseBase]:
    """A form posted to a page with a NUL character in a field is refused (400) by the field's name, before any view
    reads it: no database stores NUL in text (PostgreSQL refuses it), so every form's every field is guarded here
    at once. The API refuses them in its body parser (api.errors); intake keeps what it can of the body."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        if request.method == "POST" and not request.path.startswith("/api/"):
            fields = sorted({name for name, values in request.POST.lists() if "\x00" in name or any("\x00" in value for value in values)})
            if fields:
                errors = [{"field": name, "message": f"{name}: {NUL_MESSAGE}"} for name in (name.replace("\x00", "") for name in fields)]
                return render(request, "web/refused.html", {"title": "Not changed", "errors": errors}, status=400)
        return get_response(request)

    return middleware


def config_read_once(get_response: Callable[[HttpRequest], HttpResponseBase]) -> Callable[[HttpRequest], HttpResponseBase]:
    """A read (GET, HEAD) of a page or the API reads the configuration generation once, however many cached values it
    uses (core.cache.config_scope): the inbox used three. A write does not: one that changes the configuration reads
    what it changed in the same request."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        if request.method in ("GET", "HEAD"):
            with config_scope():
                return get_response(request)
        return get_response(request)

    return middleware

"""Every refusal of the API in one shape: `{"errors": [{"field": ..., "message": ...}]}`.

Handlers for what django-ninja and Django raise themselves (no token, a body that is not JSON,
fields of the wrong type, a row that is not there, a method a path does not have, a path that is
not an endpoint), so a client parses one shape whatever went wrong; and the one table that says
which HTTP status each refusal of a use case (core.refusals) is answered with.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, re_path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from leadbaton.api.auth import CsrfRefused, Forbidden
from leadbaton.core.jsonkind import json_kind
from leadbaton.core.refusals import Conflict, Invalid, NotAllowed, NotFound, Refused

# A path parameter, as a reader would name the row it points at.
ROWS = {
    "lead_id": "lead", "submission_id": "submission", "subscription_id": "webhook subscription",
    "token_id": "personal token of yours", "message_id": "message",
}


# The HTTP status of each kind of refusal a use case raises.
REFUSAL_STATUS: dict[type[Refused], int] = {NotFound: 404, NotAllowed: 403, Conflict: 409, Invalid: 422}


def refusal_status(refused: Refused) -> int:
    """The status of the refusal's kind; 422 (the request cannot be used) for one of no kind in the table."""
    return next((status for kind, status in REFUSAL_STATUS.items() if isinstance(refused, kind)), 422)


def refused_answer(refused: Refused) -> JsonResponse:
    """A use case's refusal, answered with the status of its kind."""
    return JsonResponse({"errors": refused.errors}, status=refusal_status(refused))


class BodyNotObject(ValueError):
    """The body is JSON, but not the object every endpoint with a body takes."""


class BodyHasNul(ValueError):
    """A text of the body holds a NUL character or a lone surrogate (JSON's "\\ud800"), which no database stores as text."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class JsonObjectParser(Parser):
    """Bodies are JSON objects. django-ninja would read `null`, `[1]` or `7` as an empty object of optional fields.
    A text no database stores is refused by its field here, for every endpoint (intake reads its body itself)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body, parse_constant=_not_a_number)
        if not isinstance(data, dict):
            raise BodyNotObject(f"must be a JSON object with this endpoint's fields (see /api/v1/docs), not {json_kind(data)}")
        if (found := unstorable_in(data)) is not None:
            raise BodyHasNul(*found)
        return data


NUL = "contains a NUL character (\\u0000), which cannot be stored; remove it"
SURROGATE = "contains a lone surrogate (\\ud800 to \\udfff, half of a character), which cannot be stored; send the whole character"


def unstorable_in(value: Any, path: str = "") -> tuple[str, str] | None:
    """(path, what is wrong) of the first text or key in a decoded JSON value no database stores ("rules.2.name"), else None."""
    if isinstance(value, str):
        if "\x00" in value:
            return path or "body", NUL
        if any("\ud800" <= char <= "\udfff" for char in value):
            return path or "body", SURROGATE
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if (found := unstorable_in(str(key), inner) or unstorable_in(item, inner)) is not None:
                return found
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := unstorable_in(item, f"{path}.{index}" if path else str(index))) is not None:
                return found
    return None


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def refusal(field: str, message: str, status: int, headers: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse({"errors": [{"field": field, "message": message}]}, status=status, headers=headers)


def errors_install(api: NinjaAPI) -> None:
    """Answer everything the framework refuses in the errors shape."""

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        if request.headers.get("Authorization"):
            message = ("is not a live personal token (unknown, revoked, or not a Bearer token); "
                       "send Authorization: Bearer <personal token> or sign in")
        else:
            message = "is missing; send Authorization: Bearer <personal token> (leadbaton tokens create) or sign in"
        return refusal("Authorization", message, 401, headers={"WWW-Authenticate": 'Bearer realm="leadbaton"'})

    @api.exception_handler(Refused)
    def _refused(request: HttpRequest, exc: Refused) -> HttpResponse:
        return refused_answer(exc)

    @api.exception_handler(CsrfRefused)
    def _csrf(request: HttpRequest, exc: CsrfRefused) -> HttpResponse:
        return refusal("X-CSRFToken", str(exc), 403)

    @api.exception_handler(Forbidden)
    def _forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
        return refusal("role", str(exc), 403)

    @api.exception_handler(ValidationError)
    def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = []
        for error in exc.errors:
            location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path")]
            errors.append({"field": ".".join(location) or "body", "message": _as_said_of_the_field(str(error.get("msg", "is not valid")))})
        return JsonResponse({"errors": errors}, status=422)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return row_missing(request)

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        cause = exc.__cause__
        if isinstance(cause, BodyNotObject):
            return refusal("body", str(cause), 422)
        if isinstance(cause, BodyHasNul):
            return refusal(cause.field, str(cause), 422)
        if exc.status_code == 400:  # django-ninja could not parse the body
            why = cause.msg if isinstance(cause, json.JSONDecodeError) else str(cause) if isinstance(cause, ValueError) else ""
            return refusal("body", f"is not valid JSON{': ' + why if why else ''}; send a JSON object", 400)
        return refusal("request", str(exc), exc.status_code)


def _as_said_of_the_field(message: str) -> str:
    """pydantic's "Field required" and "Input should be ..." read after the field's name: "name: is required"."""
    if message == "Field required":
        return "is required"
    return message.removeprefix("Input ")


def row_missing(request: HttpRequest) -> JsonResponse:
    """404 naming the path parameter whose row is not there (the last one: a message of a subscription)."""
    kwargs = request.resolver_match.kwargs if request.resolver_match else {}
    if not kwargs:
        return refusal("path", f"{request.path} is not there", 404)
    name, value = list(kwargs.items())[-1]
    return refusal(name, f"there is no {ROWS.get(name, name.removesuffix('_id'))} {value}", 404)


def api_urls(api: NinjaAPI) -> tuple[list[Any], str, str]:
    """The API's URL patterns: a wrong method and an unknown path answer in the errors shape too."""
    patterns, app_name, namespace = api.urls
    wrapped = [
        URLPattern(pattern.pattern, _methods_named(pattern.callback), pattern.default_args, pattern.name)
        if isinstance(pattern, URLPattern) else pattern
        for pattern in patterns
    ]
    return [*wrapped, re_path(r"", _endpoint_unknown)], app_name, namespace


def _methods_named(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)  # keeps csrf_exempt: django-ninja checks CSRF itself, for sessions only
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            message = f"{request.method} is not a method of {request.path}; use {allowed.replace(', ', ' or ')}"
            return refusal("method", message, 405, headers={"Allow": allowed})
        return response

    return answer


def _endpoint_unknown(request: HttpRequest) -> HttpResponse:
    return refusal("path", f"{request.path} is not an endpoint of this API; the list is at /api/v1/docs", 404)

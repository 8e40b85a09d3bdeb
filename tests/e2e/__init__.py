"""End-to-end tests: `leadbaton serve` runs as a subprocess and is spoken to over real HTTP.

The HTTP helpers live here, standard library only, so that the processes the
concurrency tests spawn can import them without loading Django.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    base_url: str, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 30.0
) -> Reply:
    """One request on a fresh connection, answered in full."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, {name.lower(): value for name, value in response.getheaders()}, response.read())
    finally:
        connection.close()


def post_lead(
    base_url: str, key: str | None, payload: Any = None, *, raw: bytes | None = None, idempotency_key: str | None = None
) -> Reply:
    """POST /api/v1/leads as a source would: JSON body, Bearer key, optional Idempotency-Key."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    body = raw if raw is not None else json.dumps(payload).encode()
    return http_request(base_url, "POST", "/api/v1/leads", body=body, headers=headers)

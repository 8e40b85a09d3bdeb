"""Configuration kept in memory per process, valid while the configuration generation is unchanged.

`cached(name, load)` answers from memory when the value was loaded under the
current generation token, else calls `load()`. The token is read before the
value (a value loaded after a change is never filed under the older token
for long: the next read sees the new token and loads again).

Reading the token is one tiny query. `config_scope()` reads it once for a unit
of work, such as one intake request, so that every cached read in it costs
nothing and all of them see the same configuration.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection

from leadbaton.core.models import GENERATION_ID, Generation

T = TypeVar("T")

_values: dict[str, tuple[str, Any]] = {}
_scope = threading.local()
_TOKEN_SQL = f"SELECT token FROM {Generation._meta.db_table} WHERE id = %s"


def _token_read() -> str:
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_SQL, [GENERATION_ID])
        row = cursor.fetchone()
    return str(row[0]) if row else ""


_UNREAD = object()  # in a scope whose work has read no cached value yet


def generation() -> str:
    """The current generation token: the scope's (read at its first use), or read now."""
    token = getattr(_scope, "token", None)
    if token is None:
        return _token_read()
    if token is _UNREAD:
        token = _scope.token = _token_read()
    return str(token)


@contextmanager
def config_scope() -> Iterator[None]:
    """Read the generation at most once for the work inside, when it first reads a cached value (work that reads none
    runs no query for it); nested scopes use the outer one's."""
    if getattr(_scope, "token", None) is not None:
        yield
        return
    _scope.token = _UNREAD
    try:
        yield
    finally:
        _scope.token = None


def scope_reread() -> None:
    """The configuration changed in this thread's work: a scope it runs in reads the generation again when next asked."""
    if getattr(_scope, "token", None) is not None:
        _scope.token = _UNREAD


def cached(name: str, load: Callable[[], T]) -> T:
    """The value `load()` returns, kept until the configuration changes. Treat it as read-only: threads share it."""
    token = generation()
    hit = _values.get(name)
    if hit is not None and hit[0] == token:
        return hit[1]
    value = load()
    _values[name] = (token, value)
    return value


def cache_clear() -> None:
    """Forget every cached value (tests do, between tests: as if the process restarted)."""
    _values.clear()

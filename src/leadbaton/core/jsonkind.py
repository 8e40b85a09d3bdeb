"""Naming a decoded JSON value the way its sender wrote it, for error messages."""

from __future__ import annotations

from typing import Any


def json_kind(value: Any) -> str:
    """'null', 'true', 'false', 'a number', 'a string', 'an array' or 'an object'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"

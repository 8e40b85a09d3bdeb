"""Strict readers for settings that come from the environment.

Each helper fails loudly with the variable's name and what would be accepted,
so a typo in a deployment stops the start instead of running with a surprise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


class SettingError(ValueError):
    """An environment variable holds a value LeadBaton cannot use."""


def env_str(name: str, default: str, environ: Mapping[str, str] = os.environ) -> str:
    return environ.get(name, default)


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean; use one of true, false, 1, 0, yes, no, on, off")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] = os.environ,
) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise SettingError(f"{name}={value} is below the minimum of {minimum}")
    if maximum is not None and value > maximum:
        raise SettingError(f"{name}={value} is above the maximum of {maximum}")
    return value


def env_choice(
    name: str, default: str, choices: tuple[str, ...], environ: Mapping[str, str] = os.environ
) -> str:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if value not in choices:
        raise SettingError(f"{name}={raw!r} is not one of: {', '.join(choices)}")
    return value


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_proxy_header(name: str, environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """A header a proxy sets on requests that reached it over HTTPS: `X-Forwarded-Proto` (value `https`)
    or `NAME: VALUE`; as Django's SECURE_PROXY_SSL_HEADER. Empty: no header is trusted."""
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    header, _, value = raw.partition(":")
    header, value = header.strip(), value.strip() or "https"
    if not header or not all(char.isalnum() or char == "-" for char in header):
        raise SettingError(f"{name}={raw!r} is not a header name; use X-Forwarded-Proto, or NAME: VALUE such as X-Forwarded-Ssl: on")
    return "HTTP_" + header.upper().replace("-", "_"), value

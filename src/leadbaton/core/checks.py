"""`leadbaton check --deploy`: what Django's own deploy checks cannot know about LeadBaton."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def data_kept_private(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The data directory and the SQLite database are for LeadBaton's user alone."""
    found: list[CheckMessage] = []
    data_dir = Path(settings.DATA_DIR)
    if data_dir.is_dir() and stat.S_IMODE(data_dir.stat().st_mode) & 0o077:
        found.append(Warning(
            f"The data directory {data_dir} can be read by other users of this machine.",
            hint=f"chmod 700 {data_dir}", id="leadbaton.W001",
        ))
    database = settings.DATABASES["default"]
    if "sqlite" in str(database["ENGINE"]):
        path = Path(str(database["NAME"]))
        if path.is_file() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            found.append(Warning(
                f"The database {path} can be read by other users of this machine.",
                hint=f"chmod 600 {path}, as the user LeadBaton runs as", id="leadbaton.W002",
            ))
    return found


@register(Tags.security, deploy=True)
def https_behind_a_proxy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """LeadBaton's server speaks plain HTTP: with redirects to HTTPS on, it must learn from the proxy
    which requests came over HTTPS, or it redirects every request again and again."""
    if settings.SECURE_SSL_REDIRECT and not settings.SECURE_PROXY_SSL_HEADER:
        return [Warning(
            "LEADBATON_HTTPS (or LEADBATON_SSL_REDIRECT) is on but LEADBATON_PROXY_SSL_HEADER is empty: "
            "every request the HTTPS proxy passes on would be redirected to HTTPS again.",
            hint="Set LEADBATON_PROXY_SSL_HEADER=X-Forwarded-Proto (the header your proxy sets, and strips from clients).",
            id="leadbaton.W003",
        )]
    return []

"""The `leadbaton` command: Django's management commands with LeadBaton's settings."""

from __future__ import annotations

import os
import sys

# Commands that work on an existing database; they stop with advice when there is none.
NEEDS_DATABASE = {"sources", "submissions", "tokens", "createadmin", "worker", "config", "leads", "webhooks", "routing"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbaton.settings")
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in NEEDS_DATABASE and not {"-h", "--help"} & set(args):
        _require_database()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["leadbaton", *args])


def _require_database() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    if MigrationRecorder(connection).has_table():
        return
    where = settings.DATABASES["default"]["NAME"]
    sys.exit(
        f"leadbaton: the database {where} is not set up.\n"
        f"Run this where LeadBaton runs (LEADBATON_DATA_DIR is {settings.DATA_DIR}), "
        "set LEADBATON_DATA_DIR or DATABASE_URL to LeadBaton's, or run `leadbaton migrate` to start a new one."
    )

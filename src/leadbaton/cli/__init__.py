"""The `leadbaton` command: Django's management commands with LeadBaton's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbaton.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["leadbaton", *(sys.argv[1:] if argv is None else argv)])

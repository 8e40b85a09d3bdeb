"""leadbaton worker: retries failed submissions (and, later, every due row)."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the worker loop until SIGTERM or Ctrl-C. Any number may run against PostgreSQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Do what is due now, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        from leadbaton.worker.loop import Worker

        worker = Worker()
        if options["once"]:
            done = worker.tick()
            self.stdout.write(f"done: {done}")
            return
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        signal.signal(signal.SIGINT, lambda *_: worker.stop())
        worker.run_forever()

"""leadbaton serve: the production web server (gunicorn's master, waitress in each process) with a worker beside it."""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from leadbaton.core.env import env_bool, env_int

log = logging.getLogger(__name__)

# Seconds between attempts to register a process while the database refuses (doubling up to the last).
REGISTER_RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)
# Left to the process, after its worker thread is joined, before the master's SIGKILL at the graceful timeout.
EXIT_MARGIN_SECONDS = 1.0


def _is_sqlite() -> bool:
    return "sqlite" in str(settings.DATABASES["default"]["ENGINE"])


def _register(then: Callable[[], None]) -> None:
    """Register this process (a Holder row, then its heartbeat thread), then call `then`.

    Runs in gunicorn's post_worker_init: an exception there fails the process's boot, and gunicorn's
    master then halts the whole server. So a database that refuses (PostgreSQL restarting while a
    process respawns) is logged and retried with backoff from a thread of its own; the process serves
    meanwhile, and `then` (starting the worker) waits for the registration.
    """
    from leadbaton.core.claims import heartbeat_start, holder_current

    def attempt() -> bool:
        try:
            holder_current()  # once it answers, heartbeat_start below needs no database
        except Exception:
            log.exception("could not register this process with the database; trying again shortly")
            connection.close()  # a broken connection is not reused by the next attempt
            return False
        heartbeat_start()
        then()
        return True

    def retry() -> None:
        for number in itertools.count():
            time.sleep(REGISTER_RETRY_SECONDS[min(number, len(REGISTER_RETRY_SECONDS) - 1)])
            if attempt():
                return

    if not attempt():
        threading.Thread(target=retry, name="leadbaton-register", daemon=True).start()


class Command(BaseCommand):
    help = "Apply migrations, then serve LeadBaton (gunicorn master, waitress processes) and run a worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("LEADBATON_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("LEADBATON_PORT", 8000, minimum=1, maximum=65535))
        parser.add_argument("--no-worker", action="store_true", help="Do not run a worker beside the web server")

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        from leadbaton.cli.server import BufferedWorker
        from leadbaton.worker.loop import Worker
        from leadbaton.wsgi import application

        call_command("migrate", interactive=False, verbosity=0)
        # SQLite: one process whose threads queue for the write lock (see core/sqlite/base.py).
        # PostgreSQL: several processes; each may run a worker, their claims never collide.
        processes = 1 if _is_sqlite() else env_int("LEADBATON_WEB_PROCESSES", (os.cpu_count() or 1) + 1, minimum=1)
        threads = env_int("LEADBATON_WEB_THREADS", 8, minimum=1, maximum=256)
        run_worker = not options["no_worker"] and env_bool("LEADBATON_SERVE_WORKER", True)
        workers: list[tuple[Worker, threading.Thread]] = []

        def worker_start() -> None:
            if run_worker:
                worker = Worker()
                workers.append((worker, worker.start_thread()))

        def post_worker_init(process: Any) -> None:
            # Requests claim the submissions they process, with or without a worker: register first.
            _register(then=worker_start)

        def worker_exit(server: Any, process: Any) -> None:
            # The worker thread is a daemon: were the process to exit now, a delivery it is sending
            # (SMTP, webhook) would be cut off unrecorded and sent again by whoever claims it next.
            # Let it finish, within what is left of the graceful timeout before the master's SIGKILL.
            deadline = getattr(process, "stop_deadline", None) or time.monotonic() + server.cfg.graceful_timeout
            for worker, _ in workers:
                worker.stop()
            for _, thread in workers:
                thread.join(max(deadline - EXIT_MARGIN_SECONDS - time.monotonic(), 0))

        # Requests are read whole before a thread takes them (cli/server.py); a body declared larger
        # than this is refused at once. Intake's own, smaller limit still answers 413 in the app.
        BufferedWorker.server_limits = {
            "max_request_body_size": env_int("LEADBATON_MAX_REQUEST_BYTES", 1024 * 1024, minimum=settings.INTAKE_MAX_BODY_BYTES),
            "max_request_header_size": 64 * 1024,
            "connection_limit": env_int("LEADBATON_WEB_CONNECTIONS", 1000, minimum=10),
        }
        config = {
            "bind": f"{options['host']}:{options['port']}",
            "workers": processes,
            "worker_class": BufferedWorker,
            "threads": threads,
            "keepalive": 30,  # seconds a connection may stay silent (idle between requests, or stalled mid-request)
            "timeout": 60,
            "graceful_timeout": 20,
            "accesslog": os.environ.get("LEADBATON_ACCESS_LOG") or None,
            "errorlog": "-",
            "loglevel": "info",
            "post_worker_init": post_worker_init,
            "worker_exit": worker_exit,
            # One control socket per user would be shared by every LeadBaton on the machine.
            "control_socket_disable": True,
        }

        class Server(BaseApplication):
            def load_config(self) -> None:
                for key, value in config.items():
                    if value is not None:
                        self.cfg.set(key, value)

            def load(self) -> Any:
                return application

        self.stdout.write(
            f"LeadBaton on http://{options['host']}:{options['port']}/ "
            f"({processes} process{'es' if processes > 1 else ''} x {threads} threads"
            f"{', with a worker' if run_worker else ''})"
        )
        Server().run()

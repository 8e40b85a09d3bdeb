"""The web server process of `leadbaton serve`: gunicorn's master, waitress inside each process.

gunicorn's own thread workers hand a connection to a thread as soon as its first
byte arrives; a client that sends half a header, or half a body, then holds that
thread. Ten such clients stop a server of eight threads. waitress reads every
request (headers and body) on one event loop and hands it to a thread only once
it is complete, so slow or stalled clients cost a socket and a buffer, never a
thread. gunicorn's master still starts, watches and restarts the processes and
stops them gracefully on SIGTERM (see docs/decisions/0014).
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from gunicorn.workers.base import Worker as GunicornWorker
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask


class _ErrorsShapeTask(ErrorTask):
    """waitress's refusal of a request it will not read (a body over the limit), in the API's `{"errors": [...]}` shape."""

    def execute(self) -> None:
        error = self.request.error
        field = "body" if error.code == 413 else "request"
        reason = str(error.body).strip() or error.reason
        if error.code == 413:
            limit = self.channel.server.adj.max_request_body_size
            reason = f"is larger than the {limit} bytes this server accepts; it was not read"
        body = json.dumps({"errors": [{"field": field, "message": reason}]}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    error_task_class = _ErrorsShapeTask


def _access_logged(application: Any, logger: logging.Logger) -> Any:
    """The application, logging one line per request: client, request line, status, bytes sent, seconds."""

    def logged(environ: dict[str, Any], start_response: Any) -> Any:
        started = time.monotonic()
        seen: dict[str, str] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            seen["length"] = next((value for name, value in headers if name.lower() == "content-length"), "-")
            return start_response(status, headers, exc_info)

        try:
            return application(environ, start)
        finally:
            query = environ.get("QUERY_STRING")
            logger.info(
                '%s "%s %s%s %s" %s %s %.3f',
                environ.get("REMOTE_ADDR", "-"), environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                f"?{query}" if query else "", environ.get("SERVER_PROTOCOL"), seen.get("status", "-"),
                seen.get("length", "-"), time.monotonic() - started,
            )

    return logged


class BufferedWorker(GunicornWorker):
    """A gunicorn worker process that serves its listening sockets with waitress.

    gunicorn settings used: `threads` (request threads), `keepalive` (idle
    connection timeout), `graceful_timeout`, `timeout` (the master's heartbeat).
    The waitress-specific limits come from `server_limits` on the class.
    """

    server_limits: dict[str, Any] = {}
    # When the master will kill this process after a graceful stop began (time.monotonic()); set by `_stop`.
    stop_deadline: float | None = None

    def run(self) -> None:
        sockets = [listener.sock for listener in self.sockets]
        channels: dict[int, Any] = {}
        application = _access_logged(self.wsgi, self.log.access_log) if self.cfg.accesslog else self.wsgi
        server = create_server(
            application,
            map=channels,
            sockets=sockets,
            threads=self.cfg.threads,
            channel_timeout=max(self.cfg.keepalive, 1),
            asyncore_use_poll=True,
            ident="LeadBaton",
            # waitress would otherwise delete X-Forwarded-Proto/-For/-Host and Forwarded from every request
            # (no trusted_proxy is set), and behind a TLS proxy SECURE_PROXY_SSL_HEADER would never see the
            # header: every request redirected to itself. Passed through untouched, Django decides: it reads
            # X-Forwarded-Proto only when SECURE_PROXY_SSL_HEADER names it and X-Forwarded-Host only with
            # USE_X_FORWARDED_HOST (unset); REMOTE_ADDR and wsgi.url_scheme stay those of the socket.
            clear_untrusted_proxy_headers=False,
            **self.server_limits,
        )
        listeners = [dispatcher for dispatcher in channels.values() if isinstance(dispatcher, BaseWSGIServer)]
        for listener in listeners:
            listener.channel_class = _Channel
        while self.alive:
            wasyncore.loop(timeout=0.5, map=channels, use_poll=True, count=1)
            self.notify()
            if self.ppid != os.getppid():
                self.log.info("Parent changed, shutting down: %s", self)
                break
        self._stop(server, listeners, channels)

    def _stop(self, server: Any, listeners: list[Any], channels: dict[int, Any]) -> None:
        """Stop accepting; finish the requests already received (up to the graceful timeout); close the rest."""
        for listener in listeners:
            listener.close()
        deadline = self.stop_deadline = time.monotonic() + self.cfg.graceful_timeout
        while time.monotonic() < deadline:
            busy = False
            for channel in list(channels.values()):
                if not isinstance(channel, HTTPChannel):
                    continue
                if channel.requests or channel.total_outbufs_len:
                    busy = True
                else:
                    channel.close()  # idle, or still sending a request it will not finish in time
            if not busy:
                break
            wasyncore.loop(timeout=0.1, map=channels, use_poll=True, count=1)
            self.notify()
        server.task_dispatcher.shutdown(timeout=max(deadline - time.monotonic(), 1))
        wasyncore.close_all(channels)

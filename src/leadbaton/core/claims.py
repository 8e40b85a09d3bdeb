"""Claims on due rows, and the processes that hold them.

A due row (an outbox message, an unfinished submission) is taken by one process
at a time with a conditional UPDATE that sets `claimed_until` (a lease) and
`claimed_by` (this process's Holder row). Another process may take the row when
the claim is free:

1. nobody holds it (`claimed_until` is null), or
2. the lease has run out (a live holder stuck on one job for that long), or
3. its holder is gone: either the holder ran on a machine whose PIDs this
   process can see (same host name, boot and PID namespace) and that PID no
   longer runs the same process — found at once, so a restarted `leadbaton serve`
   takes over the work of the process it replaces within a worker tick — or its
   heartbeat is older than HOLDER_STALE (a process on another machine, or a
   machine that died).

A live process heartbeats every HEARTBEAT_EVERY from a thread of its own
(`heartbeat_start`), so a claim of a live process on another machine is
respected for as long as its lease says.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import close_old_connections
from django.db.models import Q

from leadbaton.core import clock
from leadbaton.core.models import Holder

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = timedelta(seconds=5)
HOLDER_STALE = timedelta(seconds=30)
# A gone holder's row is deleted once no lease it could have given is still running.
HOLDER_FORGOTTEN = timedelta(days=1)

_lock = threading.Lock()
_current: dict[int, int] = {}  # os.getpid() -> Holder id: a forked process registers itself anew
_heartbeats: set[int] = set()


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _machine() -> str:
    """What processes that can check each other's PIDs share: the boot, and the PID namespace."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{_read('/proc/sys/kernel/random/boot_id')}/{namespace}"[:100]


def _process_started(pid: int) -> str | None:
    """The kernel's start time of `pid` ("" where /proc is missing), or None when no such process runs."""
    stat = _read(f"/proc/{pid}/stat")
    if stat:
        return stat.rsplit(")", 1)[-1].split()[19]  # field 22, counted after the command name
    if Path("/proc/self/stat").exists():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


def holder_current() -> int:
    """This process's Holder id, registering it on first use.

    Processes register at start, outside any transaction (`heartbeat_start`):
    a registration made inside a transaction that then rolls back would be
    remembered all the same.
    """
    pid = os.getpid()
    holder_id = _current.get(pid)
    if holder_id is not None:
        return holder_id
    now = clock.now()
    holder = Holder.objects.create(
        host=socket.gethostname()[:255], machine=_machine(), pid=pid, process_started=_process_started(pid) or "",
        started_at=now, heartbeat_at=now,
    )
    _current[pid] = holder.pk
    return holder.pk


def holder_forget() -> None:
    """Forget this process's registration (tests, whose transactions roll it back)."""
    _current.pop(os.getpid(), None)


def heartbeat_start() -> None:
    """Register this process and keep its heartbeat fresh from a daemon thread (once per process)."""
    pid = os.getpid()
    with _lock:
        if pid in _heartbeats:
            return
        _heartbeats.add(pid)
    holder_current()
    threading.Thread(target=_beat, name="leadbaton-heartbeat", daemon=True).start()


def _beat() -> None:
    stopping = threading.Event()
    while not stopping.wait(HEARTBEAT_EVERY.total_seconds()):
        try:
            Holder.objects.filter(pk=holder_current()).update(heartbeat_at=clock.now(), gone_at=None)
        except Exception:
            log.exception("heartbeat failed; trying again shortly")
        finally:
            close_old_connections()


def holders_check(*, now: datetime) -> int:
    """Mark gone the holders of this machine whose process no longer runs; forget long-gone ones. Returns how many were marked."""
    me = holder_current()
    local = Holder.objects.filter(host=socket.gethostname()[:255], machine=_machine(), gone_at__isnull=True).exclude(pk=me)
    gone = [holder.pk for holder in local.only("pid", "process_started") if not _runs(holder)]
    if gone:
        Holder.objects.filter(pk__in=gone, gone_at__isnull=True).update(gone_at=now)
        log.info("%d process(es) that held claims no longer run; their claims are free", len(gone))
    Holder.objects.filter(heartbeat_at__lt=now - HOLDER_FORGOTTEN).exclude(pk=me).delete()
    return len(gone)


def _runs(holder: Holder) -> bool:
    """Does the holder's process still run? Only for a holder on this machine (its PIDs are ours to see)."""
    started = _process_started(holder.pid)
    if started is None:
        return False
    return not (started and holder.process_started and started != holder.process_started)  # else: the PID was reused


def claim_free(*, now: datetime) -> Q:
    """Rows whose claim this process may take now (see the module docstring). It never counts itself gone."""
    gone = Holder.objects.filter(Q(gone_at__isnull=False) | Q(heartbeat_at__lt=now - HOLDER_STALE)).exclude(pk=holder_current()).values("pk")
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_by__in=gone)


def claim_values(*, now: datetime, lease: timedelta) -> dict[str, Any]:
    """The values that make a row claimed by this process until `now + lease`."""
    return {"claimed_until": now + lease, "claimed_by_id": holder_current()}

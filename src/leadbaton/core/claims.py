"""Claims on due rows, and the processes that hold them.

A due row (an outbox message, an unfinished submission) is taken by one process
at a time with a conditional UPDATE that sets `claimed_until` (a lease) and
`claimed_by` (this process's Holder row). Another process may take the row when
the claim is free:

1. nobody holds it (`claimed_until` is null), or
2. the lease has run out (a live holder stuck on one job for that long), or
3. its holder is gone: either the holder ran on a machine whose PIDs this
   process can see (same host name, boot and PID namespace) and that PID no
   longer runs the same process — seen within HOLDERS_CHECK_EVERY by any live
   process of the machine, so a restarted `leadbaton serve` takes over the work
   of the process it replaces at once — or its heartbeat is older than
   HOLDER_STALE (a process on another machine, or a machine that died).

A process is called gone only when that is certain: no such PID (kill(pid, 0)
says so), or a PID whose start time can be read and differs. A PID it may not
signal or whose /proc entry it cannot read (hidepid, ProtectProc=invisible,
another user) runs.

A live process heartbeats every HEARTBEAT_EVERY from a thread of its own
(`heartbeat_start`), which also checks this machine's holders, so a claim of a
live process on another machine is respected for as long as its lease says.
Heartbeats are written and judged stale by the database's clock (`Now()`), so
machines whose clocks disagree do not take each other's live claims.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import close_old_connections
from django.db.models import Q
from django.db.models.functions import Now

from leadbaton.core import clock
from leadbaton.core.models import Holder

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = timedelta(seconds=5)
HOLDER_STALE = timedelta(seconds=30)
# How often each process looks for processes of its machine that died holding claims.
HOLDERS_CHECK_EVERY = timedelta(seconds=2)
# A gone holder's row is deleted once no lease it could have given is still running.
HOLDER_FORGOTTEN = timedelta(days=1)

_lock = threading.Lock()
_current: dict[int, int] = {}  # os.getpid() -> Holder id: a forked process registers itself anew
_heartbeats: set[int] = set()
# Where the kernel shows processes; a test may point it at a /proc that hides them (hidepid).
PROC = Path("/proc")


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
    """The kernel's start time of `pid`, "" when it runs but its start time cannot be read, None when no such process runs.

    Only the kernel's "no such process" means gone: a PID this process may not
    signal (another user) or whose /proc entry it cannot see (hidepid,
    ProtectProc=invisible) runs.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it runs, as someone else
    stat = _read(str(PROC / str(pid) / "stat"))
    if stat:
        return stat.rsplit(")", 1)[-1].split()[19]  # field 22, counted after the command name
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
    holder = Holder.objects.create(
        host=socket.gethostname()[:255], machine=_machine(), pid=pid, process_started=_process_started(pid) or "",
        started_at=clock.now(), heartbeat_at=Now(),
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


def heartbeat() -> None:
    """Say this process runs (database time). A process whose row was deleted (pruned while it was
    suspended for a day) registers anew, so its next claims name a row that exists."""
    if Holder.objects.filter(pk=holder_current()).update(heartbeat_at=Now(), gone_at=None) == 0:
        holder_forget()
        log.warning("this process's holder row was gone (pruned while it was silent); registered anew")
        holder_current()


def _beat() -> None:
    """The heartbeat thread: a heartbeat every HEARTBEAT_EVERY, a look at this machine's holders every HOLDERS_CHECK_EVERY.

    Every process checks (not only workers), so the claims of a process of this machine
    that died are free at once even where no worker runs beside the web server.
    """
    stopping = threading.Event()
    last_beat = time.monotonic()
    while not stopping.wait(HOLDERS_CHECK_EVERY.total_seconds()):
        try:
            if time.monotonic() - last_beat >= HEARTBEAT_EVERY.total_seconds() - HOLDERS_CHECK_EVERY.total_seconds() / 2:
                heartbeat()
                last_beat = time.monotonic()
            holders_check(now=clock.now())
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
    Holder.objects.filter(heartbeat_at__lt=Now() - HOLDER_FORGOTTEN).exclude(pk=me).delete()
    return len(gone)


def _runs(holder: Holder) -> bool:
    """Does the holder's process still run? Only for a holder on this machine (its PIDs are ours to see)."""
    started = _process_started(holder.pid)
    if started is None:
        return False
    return not (started and holder.process_started and started != holder.process_started)  # else: the PID was reused


def claim_free(*, now: datetime) -> Q:
    """Rows whose claim this process may take now (see the module docstring). It never counts itself gone."""
    # Staleness by the database's clock, as heartbeats are written by it: machines' clocks may disagree.
    stale = Q(heartbeat_at__lt=Now() - HOLDER_STALE)
    gone = Holder.objects.filter(Q(gone_at__isnull=False) | stale).exclude(pk=holder_current()).values("pk")
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_by__in=gone)


def claim_values(*, now: datetime, lease: timedelta) -> dict[str, Any]:
    """The values that make a row claimed by this process until `now + lease`."""
    return {"claimed_until": now + lease, "claimed_by_id": holder_current()}

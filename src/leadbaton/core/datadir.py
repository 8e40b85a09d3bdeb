"""LeadBaton's data directory: where it is, and creating it (private) only on purpose.

Importing the settings creates nothing. The commands that start a LeadBaton
(`leadbaton serve`, `demo`, `migrate`) and the WSGI entry point call
`data_dir_prepare()` first; every other command finds the directory as it is,
so running one from the wrong directory cannot leave a stray `./var` behind.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dotenv import load_dotenv

from leadbaton.core.env import SettingError, env_str

# Everything in the data directory is for LeadBaton's own user alone.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

_prepared: Path | None = None


def environment_load() -> None:
    """A .env file (see .env.example) fills in what the real environment does not set."""
    load_dotenv(os.environ.get("LEADBATON_ENV_FILE", ".env"), override=False)


def data_dir_configured() -> Path:
    """LEADBATON_DATA_DIR as an absolute path (default ./var); nothing is created."""
    environment_load()
    return Path(env_str("LEADBATON_DATA_DIR", "var")).resolve()


def data_dir_prepare() -> tuple[Path, bool]:
    """Create the configured data directory, mode 0700 whatever the umask, unless it exists.

    Returns the directory and whether this call created it. Afterwards the settings
    may write a generated secret key into it (see `secret_key_for`).
    """
    global _prepared
    path = data_dir_configured()
    created = False
    if not path.is_dir():
        try:
            path.mkdir(mode=PRIVATE_DIR, parents=True)
            created = True
        except FileExistsError:  # another process made it at the same moment
            pass
        if created:
            os.chmod(path, PRIVATE_DIR)  # mkdir's mode passes through the umask
    _prepared = path
    return path, created


def secret_key_for(data_dir: Path) -> str:
    """LEADBATON_SECRET_KEY, else the key kept in the data directory.

    A key is generated into `secret_key` (0600) only by a process that prepared the
    directory. Any other process without one (a command run where LeadBaton does not
    live, a test) gets a random key of its own that is never written anywhere.
    """
    from_env = os.environ.get("LEADBATON_SECRET_KEY", "").strip()
    if from_env:
        if len(from_env) < 32:
            raise SettingError("LEADBATON_SECRET_KEY must be at least 32 characters long")
        return from_env
    path = data_dir / "secret_key"
    if not path.exists() and _prepared == data_dir:
        # Written whole to a private file, then linked into place: two processes
        # starting at once never read a half-written key, and the first one wins.
        draft = data_dir / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if path.exists():
        return path.read_text().strip()
    return secrets.token_urlsafe(50)


def file_make_private(path: Path) -> None:
    """Create `path` empty with mode 0600 if it is missing; take group and other access away if not.

    Used for the SQLite database before SQLite opens it: SQLite would create it 0644,
    and gives its -wal and -shm files the database file's own mode.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        pass
    except FileNotFoundError:
        return  # no such directory: SQLite says so in its own words
    else:
        os.close(fd)
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if each.stat().st_mode & 0o777 != PRIVATE_FILE:
                os.chmod(each, PRIVATE_FILE)
        except FileNotFoundError:
            continue
        except PermissionError:
            continue  # not ours to change; `leadbaton check --deploy` says so

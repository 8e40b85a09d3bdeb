#!/usr/bin/env python3
"""Set up and run LeadBaton: `python3 run.py`.

Creates .venv with the pinned dependencies, applies migrations, loads the demo
organisation when the database is empty, prints the demo logins and a source
API key, and serves http://127.0.0.1:8000 with gunicorn and a worker, on
SQLite under ./var (LEADBATON_DATA_DIR). Extra arguments go to `leadbaton serve`,
e.g. `python3 run.py --port 8080`.
"""

from __future__ import annotations

import os
import subprocess
import sys

from bootstrap import ROOT, ensure_environment, venv_bin


def main() -> None:
    ensure_environment(dev=False)
    start(sys.argv[1:])


def start(serve_arguments: list[str]) -> None:
    """Migrate, load the demo when the database is empty (it prints the logins and keys), then become the server."""
    leadbaton = str(venv_bin("leadbaton"))
    env = {**os.environ}
    env.setdefault("LEADBATON_DATA_DIR", str(ROOT / "var"))
    subprocess.run([leadbaton, "migrate", "--verbosity", "0"], check=True, cwd=ROOT, env=env)
    subprocess.run([leadbaton, "demo", "--if-empty"], check=True, cwd=ROOT, env=env)
    os.chdir(ROOT)
    os.execve(leadbaton, [leadbaton, "serve", *serve_arguments], env)


if __name__ == "__main__":
    main()

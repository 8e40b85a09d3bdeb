"""Creates the project's virtual environment and installs the pinned dependencies.

Used by run.py and test.py so that each of them is one command on a fresh
machine with nothing but Python 3.11+.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"


def venv_bin(name: str) -> Path:
    return VENV / ("Scripts" if sys.platform == "win32" else "bin") / name


def ensure_environment(*, dev: bool) -> None:
    """Create .venv if needed and install the project; skip the install when nothing changed."""
    if not venv_bin("python").exists():
        print("Creating the virtual environment in .venv …", flush=True)
        venv.create(VENV, with_pip=True)
    extras = ".[dev]" if dev else "."
    inputs = (ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes() + extras.encode()
    stamp = VENV / f".installed-{'dev' if dev else 'run'}"
    digest = hashlib.sha256(inputs).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("Installing LeadBaton and its pinned dependencies …", flush=True)
    pip = [str(venv_bin("python")), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([*pip, "-c", "constraints.txt", "-e", extras], check=True, cwd=ROOT)
    stamp.write_text(digest)

"""What an installed LeadBaton holds: every file of the package that is not Python ships, so a wheel works as the checkout does."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "leadbaton"


def test_every_data_file_of_the_package_is_named_by_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["leadbaton"]
    shipped = {path for pattern in patterns for path in PACKAGE.glob(pattern) if path.is_file()}
    data = {path for path in PACKAGE.rglob("*") if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts}
    assert data, "the package has templates and static files"
    assert not data - shipped, f"not in pyproject.toml's package-data, so missing from an installed copy: {sorted(str(p.relative_to(PACKAGE)) for p in data - shipped)}"

"""leadbaton demo [--if-empty] [--file PATH]: the example organisation with logins, ready to try."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

import leadbaton
from leadbaton.cli.management.commands.config import organisation_read
from leadbaton.core import clock
from leadbaton.organisation.apply import DemoSetup, demo_load, organisation_is_empty

# A key line of demo.txt: two spaces, the source slug, spaces, the key (then, on one line, a remark).
_KEY_LINE = re.compile(r"^  (?P<slug>[a-z0-9][a-z0-9_-]*) +(?P<key>lb_src_\S+)(?: .*)?$", re.MULTILINE)


def example_path() -> Path:
    """examples/org.yaml in the source tree: src/leadbaton/ -> the repository root."""
    return Path(leadbaton.__file__).resolve().parent.parent.parent / "examples" / "org.yaml"


class Command(BaseCommand):
    help = (
        "Load the example organisation (examples/org.yaml) with demo passwords and API keys, "
        "and write the logins to DATA_DIR/demo.txt. Never for a real installation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Do nothing (but show demo.txt) if any team exists")
        parser.add_argument("--file", help="Load this organisation file instead of examples/org.yaml")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        demo_txt = Path(settings.DATA_DIR) / "demo.txt"
        if options["if_empty"] and not organisation_is_empty():
            if demo_txt.is_file():
                self.stdout.write(demo_txt.read_text(encoding="utf-8"))
            else:
                self.stdout.write("Teams exist already, so the demo was not loaded (and there is no demo.txt).")
            return
        path = Path(options["file"]) if options["file"] else example_path()
        if not path.is_file():
            raise CommandError(f"no organisation file at {path}; give one with --file PATH (for example a copy of examples/org.yaml)")
        organisation = organisation_read(path, stderr=self.stderr)
        known = {match["slug"]: match["key"] for match in _KEY_LINE.finditer(_read(demo_txt))}
        setup = demo_load(organisation=organisation, now=clock.now(), known_keys=known)
        # Saved before anything is printed: the keys' plaintext exists nowhere else.
        text = demo_text(setup, organisation.name or "the example organisation")
        private_write(demo_txt, text)
        # Each key is printed once, in demo.txt's text: `config apply`'s own list of new keys would repeat them.
        self.stdout.write(f"Loaded {path}: {setup.report.summary()}.")
        self.stdout.write(f"Wrote {demo_txt} (readable only by you):\n")
        self.stdout.write(text)


# The first source of the file (`website` in examples/org.yaml) is the one README.md's examples use.
_README_KEY = "  (the key README.md's examples use)"


def demo_text(setup: DemoSetup, name: str) -> str:
    width = max([len(login.email) for login in setup.logins] + [len(slug) for slug in setup.keys] + [5])
    lines = [
        f"LeadBaton demo: {name}",
        "Demo passwords are public: never use this on a real installation.",
        "",
        "Sign in (email, password, role):",
        *(f"  {login.email:<{width}}  {login.password:<20} {login.role}" for login in setup.logins),
        "",
        "Source API keys, one per source (send leads with the header Authorization: Bearer KEY):",
        *(f"  {slug:<{width}}  {key}{_README_KEY if index == 0 else ''}" for index, (slug, key) in enumerate(setup.keys.items())),
        "",
    ]
    if setup.keys:
        lines += [
            f"Try it, with `leadbaton serve` running: set LEADBATON_SOURCE_KEY to the {next(iter(setup.keys))} key",
            'and send the lead README.md shows under "Send a lead".',
            "",
        ]
    return "\n".join(lines)


def private_write(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600), replacing it whole: a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""

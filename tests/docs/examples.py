"""The examples in README.md and docs/: finding them, and comparing an answer with the one they show.

The conventions are written down for authors at the top of docs/api.md ("Examples in these
documents"); this module is their reading. Standard library only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# Every document whose examples are run: a new page in docs/ is included without being named here.
# docs/decisions/ records history and is not run.
DOCUMENTS = ("README.md", *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("*.md")), "bench/README.md")

ANY = "…"  # a value written as "…" matches anything; a string ending in "…" matches any string that starts the same
_FENCE = re.compile(r"^```(?P<lang>[\w-]*)[ \t]*\n(?P<text>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_MARKER = re.compile(r"<!--\s*example:(?P<body>.*?)-->\s*$", re.DOTALL)
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


@dataclass(frozen=True)
class Step:
    """One step of an example's setup: a request `METHOD PATH [as WHO] [JSON body]`, or `wait N seconds`."""

    method: str
    path: str
    who: str
    body: Any = None


@dataclass(frozen=True)
class Example:
    """A fenced block of a document, with the `<!-- example: … -->` comment written just above it."""

    document: str
    line: int
    lang: str
    text: str
    head: str = ""  # the marker's first line: "", "answer", "answer to", "body of POST /api/v1/… as WHO", "not run (why)", "run"
    steps: tuple[Step, ...] = field(default=())
    token: str = ""  # `token WHO`: whose personal token $LEADBATON_TOKEN is

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line}"

    @property
    def not_run_reason(self) -> str | None:
        found = re.fullmatch(r"not run \((?P<why>.*\S.*)\)", self.head)
        return found["why"] if found else None


def step_parse(line: str) -> Step:
    waited = re.fullmatch(r"wait (?P<count>\d+) (?P<unit>seconds?|minutes?)", line.strip())
    if waited is not None:  # the clock moves on: `wait 90 seconds`
        seconds = int(waited["count"]) * (60 if waited["unit"].startswith("minute") else 1)
        return Step("WAIT", str(seconds), "")
    found = re.fullmatch(r"(?P<method>GET|POST|PUT|PATCH|DELETE) +(?P<path>/\S*)(?: +as +(?P<who>\S+))?(?: +(?P<body>[\[{].*))?", line.strip())
    if found is None:
        raise ValueError(f"not a step (METHOD PATH [as WHO] [JSON]): {line!r}")
    body = json.loads(found["body"]) if found["body"] else None
    return Step(found["method"], found["path"], found["who"] or "", body)


def examples_in(document: str) -> list[Example]:
    text = (ROOT / document).read_text(encoding="utf-8")
    found = []
    for fence in _FENCE.finditer(text):
        before = text[: fence.start()].rstrip()
        marker = _MARKER.match(before, before.rfind("<!--")) if before.endswith("-->") else None
        head, steps, token = "", [], ""
        if marker is not None:
            lines = [line.strip() for line in marker["body"].strip().splitlines() if line.strip()]
            head = lines[0] if lines else ""
            for line in lines[1:]:
                if line.startswith("token "):
                    token = line.split(None, 1)[1]
                else:
                    steps.append(step_parse(line))
        line_number = text.count("\n", 0, fence.start()) + 1
        found.append(Example(document, line_number, fence["lang"], fence["text"], head, tuple(steps), token))
    return found


def all_examples() -> list[Example]:
    return [example for document in DOCUMENTS for example in examples_in(document)]


def json_documents(text: str) -> list[Any]:
    """A block's JSON: one document, or (for a block listing alternatives) one per line."""
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def mismatches(shown: Any, actual: Any, where: str = "") -> list[str]:
    """How `actual` differs from what a document shows, read with the conventions above; [] when it matches.

    - "…" matches any value; "text…" any string starting with "text"; a key "…" in an object allows more keys.
    - `id` and keys ending in `_id` hold numbers each database hands out in its own way: a shown number
      matches any whole number (null must be null).
    - A shown timestamp (ISO 8601 with a zone) matches any such timestamp.
    """
    at = where or "the answer"
    if shown == ANY:
        return []
    if isinstance(shown, str) and shown.endswith(ANY):
        if isinstance(actual, str) and actual.startswith(shown[: -len(ANY)]):
            return []
        return [f"{at}: shown {shown!r}, got {actual!r}"]
    if isinstance(shown, str) and _TIMESTAMP.match(shown):
        return [] if isinstance(actual, str) and _TIMESTAMP.match(actual) else [f"{at}: shown a timestamp, got {actual!r}"]
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{at}: shown an object, got {actual!r}"]
        problems = []
        open_ended = ANY in shown
        for key, value in shown.items():
            if key == ANY:
                continue
            if key not in actual:
                problems.append(f"{at}.{key}: shown, but not in the answer")
            elif (key == "id" or key.endswith("_id")) and isinstance(value, int) and not isinstance(value, bool):
                if not (isinstance(actual[key], int) and not isinstance(actual[key], bool)):
                    problems.append(f"{at}.{key}: shown a number, got {actual[key]!r}")
            else:
                problems += mismatches(value, actual[key], f"{at}.{key}")
        if not open_ended:
            problems += [f"{at}.{key}: in the answer, not shown (add it, or a key \"…\")" for key in actual if key not in shown]
        return problems
    if isinstance(shown, list):
        if not isinstance(actual, list):
            return [f"{at}: shown a list, got {actual!r}"]
        if len(shown) != len(actual):
            return [f"{at}: shown {len(shown)} items, got {len(actual)}: {actual!r}"]
        return [problem for index, (a, b) in enumerate(zip(shown, actual, strict=True)) for problem in mismatches(a, b, f"{at}[{index}]")]
    if shown != actual or type(shown) is not type(actual):
        return [f"{at}: shown {shown!r}, got {actual!r}"]
    return []

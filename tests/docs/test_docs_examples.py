"""Every example in README.md and docs/ runs against the demo organisation and answers what it shows.

Each fenced block is run here, or says in a comment just above it why it is not
(`<!-- example: not run (reason) -->`); the conventions are at the top of docs/api.md.
HTTP examples go through Django's test client at the suite's fixed moment (Wednesday
25 November 2026, 21:00 in Berlin); tests/e2e/test_quick_start.py runs README's quick
start against a real `leadbaton serve`.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from leadbaton.accounts.models import User
from leadbaton.accounts.services import token_issue
from leadbaton.core import clock
from leadbaton.leads.models import Lead

from ..conftest import WEDNESDAY_EVENING_IN_BERLIN
from .examples import ROOT, Example, Step, all_examples, json_documents, mismatches

ADMIN = "admin@lumenmetrics.example"
README_SOURCE = "website"  # the key README.md's examples use; `leadbaton demo` marks it
IDENTITY = ("slug", "email", "name")  # how an entry of an org.yaml list is known


@dataclass
class Case:
    """A block that does something, and the blocks right after it that show its answer."""

    example: Example
    answers: list[Example] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.example.name


def cases() -> list[Case]:
    found: list[Case] = []
    for example in all_examples():
        if example.head == "answer" and found:
            found[-1].answers.append(example)
        else:
            found.append(Case(example))
    return found


class Demo:
    """The demo organisation, and a way to talk to it as the documents do."""

    def __init__(self, keys: dict[str, str], data_dir: Path, clock: time_machine.Traveller) -> None:
        self.keys = keys
        self.data_dir = data_dir
        self.clock = clock
        self.client = Client()
        self.tokens: dict[str, str] = {}
        self.lead_id: int | None = None
        self.env = {"LEADBATON_SOURCE_KEY": keys[README_SOURCE], "LEADBATON_TOKEN": self.token_of(ADMIN)}
        self.answer: Any = None
        self.status = 0

    def token_of(self, email: str) -> str:
        if email not in self.tokens:
            self.tokens[email] = token_issue(user=User.objects.get(email=email), name="docs", now=clock.now()).plaintext
        return self.tokens[email]

    def person(self, who: str) -> str:
        if who == "owner":
            assert self.lead_id is not None, "`as owner` needs a lead made by an earlier step"
            owner = Lead.objects.get(pk=self.lead_id).owner_rep
            assert owner is not None, f"lead {self.lead_id} has no rep as owner"
            return str(owner.email)
        return who

    def authorization(self, method: str, path: str, who: str) -> str | None:
        who = who or ("source" if (method, path) == ("POST", "/api/v1/leads") else ADMIN)
        if who == "anonymous":
            return None
        if who == "source":
            return f"Bearer {self.keys[README_SOURCE]}"
        return f"Bearer {self.token_of(self.person(who))}"

    def path(self, path: str) -> str:
        path = path.removeprefix("http://127.0.0.1:8000")
        if self.lead_id is not None:
            path = path.replace("{lead}", str(self.lead_id))
            path = re.sub(r"^/api/v1/leads/\d+(?=/|$)", f"/api/v1/leads/{self.lead_id}", path)
        return path

    def request(self, method: str, path: str, *, headers: dict[str, str], body: str | None) -> Any:
        path = self.path(path)
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs.update(data=body, content_type=headers.pop("Content-Type", "application/json"))
        response = getattr(self.client, method.lower())(path, **kwargs)
        self.status = response.status_code
        self.answer = json.loads(response.content) if response.content else None
        if method == "POST" and path == "/api/v1/leads" and isinstance(self.answer, dict) and self.answer.get("id"):
            self.lead_id = self.answer["id"]
        return self.answer

    def step(self, step: Step) -> Any:
        if step.method == "WAIT":
            self.clock.shift(int(step.path))
            return self.answer
        headers = {}
        authorization = self.authorization(step.method, step.path, step.who)
        if authorization:
            headers["Authorization"] = authorization
        body = None if step.body is None else json.dumps(step.body)
        return self.request(step.method, step.path, headers=headers, body=body)

    def setup(self, steps: tuple[Step, ...]) -> None:
        for step in steps:
            self.step(step)
            assert 200 <= self.status < 300, f"setup step {step} answered {self.status}: {self.answer}"

    # Shell blocks.

    def shell(self, text: str) -> None:
        for command in _commands(text):
            words = [self.expand(word) for word in command]
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                self.env[name] = self.env.get(name, value) if value.endswith("…") else value
            elif words[0] == "curl":
                self.curl(words[1:])
            elif words[0] == "leadbaton":
                self.leadbaton(words[1:])
            else:
                pytest.fail(f"`{words[0]}` is not something the docs test can run; mark the block <!-- example: not run (why) -->")

    def expand(self, word: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda found: self.env.get(found[1], found[0]), word)

    def curl(self, words: list[str]) -> None:
        method, url, headers, body = "", "", {}, None
        words = iter(words)
        for word in words:
            if word in ("-s", "-S", "-sS", "--silent", "--show-error", "-i"):
                continue
            if word in ("-X", "--request"):
                method = next(words)
            elif word in ("-H", "--header"):
                name, _, value = next(words).partition(":")
                headers[name.strip()] = value.strip()
            elif word in ("-d", "--data", "--data-raw"):
                body = next(words)
            elif word.startswith("http"):
                url = word
            else:
                pytest.fail(f"curl option {word} is not understood by the docs test; use -X, -H, -d")
        self.request(method or ("POST" if body is not None else "GET"), url, headers=headers, body=body)

    def leadbaton(self, words: list[str]) -> None:
        org_yaml = self.data_dir / "org.yaml"
        org_yaml.write_text((ROOT / "examples" / "org.yaml").read_text())
        words = [str(org_yaml) if word == "org.yaml" else word for word in words]
        out = io.StringIO()
        call_command(*words, stdout=out, stderr=out)
        self.answer, self.status = out.getvalue(), 0


def _commands(text: str) -> Iterator[list[str]]:
    """The commands of a shell block: one per line; a trailing backslash, or an open quote, continues it."""
    pending = ""
    for line in text.replace("\\\n", " ").splitlines():
        pending += line + "\n"
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # "No closing quotation": the command goes on
            continue
        pending = ""
        if words:
            yield words
    assert not pending.strip(), f"an unfinished command: {pending}"


def org_yaml_with(snippet: Any) -> dict[str, Any]:
    """examples/org.yaml with a snippet written into it: an entry of a list replaces the keys of the
    entry with the same slug, email or name (or is added); a mapping's keys replace the file's.
    A snippet that is a list is a list of conditions, tried as a routing rule's `when`."""
    organisation = yaml.safe_load((ROOT / "examples" / "org.yaml").read_text())
    if isinstance(snippet, list):
        snippet = {"routing": [{"name": "Conditions from the docs", "when": snippet, "team": "emea"}]}
    for key, value in snippet.items():
        if isinstance(value, dict):
            organisation.setdefault(key, {}).update(value)
            continue
        entries = organisation.setdefault(key, [])
        for entry in value:
            identity = next(name for name in IDENTITY if name in entry)
            same = next((old for old in entries if old.get(identity) == entry[identity]), None)
            if same is None:
                entries.append(entry)
            else:
                same.update(entry)
    return organisation


@pytest.fixture
def demo(db: None, settings: Any, tmp_path: Path) -> Iterator[Demo]:
    """The demo organisation on Wednesday 25 November 2026 at 21:00 in Berlin, with the clock standing
    still (it moves only with `wait`), so that timestamps and durations come out as the documents show."""
    settings.DATA_DIR = tmp_path
    with time_machine.travel(WEDNESDAY_EVENING_IN_BERLIN, tick=False) as moment:
        call_command("demo", stdout=io.StringIO())
        text = (tmp_path / "demo.txt").read_text()
        keys = dict(re.findall(r"^  ([a-z0-9-]+) +(lb_src_\S+)", text, re.MULTILINE))
        yield Demo(keys, tmp_path, moment)


CASES = cases()


def test_it_finds_the_examples_of_every_document() -> None:
    documents = {case.example.document for case in CASES}
    assert {"README.md", "docs/api.md", "docs/configuration.md", "docs/operations.md"} <= documents


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_it_runs_the_example_and_gets_the_answer_it_shows(case: Case, demo: Demo) -> None:
    example = case.example
    if example.not_run_reason is not None:
        pytest.skip(f"not run: {example.not_run_reason}")
    assert example.head in ("", "run", "answer to") or example.head.startswith("body of "), (
        f"{example.name}: unknown marker {example.head!r}; see the conventions at the top of docs/api.md"
    )
    if example.head == "answer to":
        assert example.steps, f"{example.name}: `answer to` needs at least one request"
        demo.setup(example.steps[:-1])
        demo.step(example.steps[-1])
        _compare(example, demo)
    elif example.head.startswith("body of "):
        _send_bodies(example, demo)
    elif example.lang == "sh":
        demo.setup(example.steps)
        if example.token:
            demo.env["LEADBATON_TOKEN"] = demo.token_of(demo.person(example.token))
        demo.shell(example.text)
        if not case.answers:
            assert demo.status < 300, f"{example.name} answered {demo.status}: {demo.answer}"
    elif example.lang == "yaml":
        _apply_snippet(example, demo)
    else:
        pytest.fail(
            f"{example.name}: a ```{example.lang or '(plain)'} block is run only when a comment above it says what it is "
            "(<!-- example: answer -->, <!-- example: answer to … -->, <!-- example: body of … -->) "
            "or why it is not (<!-- example: not run (why) -->)"
        )
    for answer in case.answers:
        _compare(answer, demo)


def _compare(example: Example, demo: Demo) -> None:
    (shown,) = json_documents(example.text)
    problems = mismatches(shown, demo.answer)
    assert not problems, (
        f"{example.name} shows an answer the demo does not give (status {demo.status}):\n"
        + "\n".join(problems)
        + f"\nThe whole answer:\n{json.dumps(demo.answer, ensure_ascii=False)}"
    )


def _send_bodies(example: Example, demo: Demo) -> None:
    found = re.fullmatch(r"body of (?P<method>[A-Z]+) (?P<path>\S+)(?: as (?P<who>\S+))?", example.head)
    assert found, f"{example.name}: write `body of METHOD PATH [as WHO]`"
    documents = json_documents(example.text)
    for document in documents:
        # Alternatives (one body a line) each start from the same state.
        tokens, lead_id = dict(demo.tokens), demo.lead_id
        with transaction.atomic():
            demo.setup(example.steps)
            demo.step(Step(found["method"], found["path"], found["who"] or "", document))
            assert 200 <= demo.status < 300, f"{example.name}: {json.dumps(document)} answered {demo.status}: {demo.answer}"
            if len(documents) > 1:
                transaction.set_rollback(True)
        if len(documents) > 1:
            demo.tokens, demo.lead_id = tokens, lead_id


def _apply_snippet(example: Example, demo: Demo) -> None:
    path = demo.data_dir / "org-with-snippet.yaml"
    path.write_text(yaml.safe_dump(org_yaml_with(yaml.safe_load(example.text)), sort_keys=False, allow_unicode=True))
    errors = io.StringIO()
    try:
        call_command("config", "apply", str(path), stdout=io.StringIO(), stderr=errors)
    except Exception as error:
        pytest.fail(f"{example.name}: `leadbaton config apply` refuses this snippet in examples/org.yaml: {error}\n{errors.getvalue()}")

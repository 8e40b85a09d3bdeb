"""README's quick start as a newcomer follows it: run.py's steps, the key it marks, the curl README shows."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.docs.examples import ROOT, examples_in, json_documents, mismatches

from . import http_request
from .conftest import START_TIMEOUT, STOP_TIMEOUT, free_port


def test_it_serves_the_demo_and_answers_the_lead_readme_sends_as_readme_shows(tmp_path: Path, e2e_database_url: str) -> None:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("LEADBATON_") and name != "DATABASE_URL"}
    env.update(LEADBATON_DATA_DIR=str(tmp_path / "var"), LEADBATON_ENV_FILE="/dev/null", PYTHONUNBUFFERED="1")
    if e2e_database_url:
        env["DATABASE_URL"] = e2e_database_url
    output = tmp_path / "run.out"
    with output.open("wb") as out:
        # What `python3 run.py --port PORT` does once .venv is in place.
        process = subprocess.Popen(
            [sys.executable, "-c", f"import run; run.start(['--port', '{port}'])"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_until_served(process, port, output)
        printed = output.read_text()
        keys = re.findall(r"^  ([a-z0-9-]+) +(lb_src_\S+)(.*)$", printed, re.MULTILINE)
        assert [slug for slug, _, _ in keys] == ["website", "trade-show-badges", "partner-portal"], printed
        assert all(printed.count(key) == 1 for _, key, _ in keys), "each key is printed once"
        (readme_key,) = [key for _, key, remark in keys if "README.md" in remark]

        send, shown = _send_a_lead_example()
        script = send.replace("lb_src_…", readme_key).replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, check=True)
        answer = json.loads(done.stdout)

        if answer["stage"] == "assigned":  # within EMEA's working hours, as README says
            assert answer["owner"]["kind"] == "rep"
            shown = {**shown, "stage": "assigned", "owner": answer["owner"]}
        assert mismatches(shown, answer) == []
    finally:
        _stop(process)


def _send_a_lead_example() -> tuple[str, dict[str, object]]:
    examples = examples_in("README.md")
    index = next(i for i, example in enumerate(examples) if "curl" in example.text and "/api/v1/leads" in example.text)
    assert examples[index + 1].head == "answer"
    (shown,) = json_documents(examples[index + 1].text)
    return examples[index].text, shown


def _wait_until_served(process: subprocess.Popen[bytes], port: int, output: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT + 60  # run.py migrates and loads the demo first
    while True:
        if process.poll() is not None:
            pytest.fail(f"run.py exited with {process.returncode}\n{output.read_text()}")
        try:
            if http_request(f"http://127.0.0.1:{port}", "GET", "/healthz", timeout=2).status == 200 and "worker started" in output.read_text():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"run.py did not serve /healthz in time\n{output.read_text()}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # run.py became `leadbaton serve`, the same process
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

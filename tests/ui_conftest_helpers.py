"""Shared pieces of the UI tests: the real Gradio app served over the session's assistant.

The ``ui_server`` fixture in ``conftest.py`` starts it once per test session.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

HOST = "127.0.0.1"
RILUZOLE_QUESTION = "What is the recommended riluzole dose?"
RILUZOLE_FACT = "50 mg twice daily (taken at least 1 hour before or 2 hours after meals)"
CLINICIAN_DISCLAIMER = "This information is intended for healthcare professionals"
PATIENT_DISCLAIMER = "The above information is an educational aid only"


@dataclass
class UIServer:
    url: str
    bot: Any
    app: Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, timeout: float = 30.0, expect: int = 200) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "config", timeout=2) as r:  # loopback only
                status = r.status
        except urllib.error.HTTPError as exc:  # e.g. 401 before the login
            status = exc.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            status = None
        if status == expect:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} answered {status}, not {expect}")
        time.sleep(0.1)


def start(bot, auth: str | None = None, **launch_kwargs) -> UIServer:
    """Serve ``create_app(bot)`` on a free loopback port, in this process."""
    from ui.app import create_app
    from ui.serve import launch

    app = create_app(bot)
    for attempt in range(3):  # a free port can be taken between the probe and the bind
        port = free_port()
        try:
            launch(app, HOST, port, auth, prevent_thread_lock=True, quiet=True, **launch_kwargs)
            break
        except OSError:
            if attempt == 2:
                raise
    url = f"http://{HOST}:{port}/"
    _wait_until_up(url, expect=401 if auth else 200)
    return UIServer(url=url, bot=bot, app=app)


@dataclass
class _Answer:
    d: dict

    def to_dict(self) -> dict:
        return self.d


class EchoBot:
    """A fake assistant that declines every question, echoing it in the answer and the reason
    (as a refusal may name words of the question). No model, no index."""

    def ask(self, question: str, audience: str = "auto", history=None) -> _Answer:
        return _Answer(
            {
                "question": question,
                "search_query": question,
                "status": "refused",
                "answer": f"You asked: {question}",
                "reason": f"the guidelines never mention {question}",
                "audience": "patient",
                "route": {"requested": audience, "audience": "patient", "reason": question},
                "citations": [],
                "suggestions": [question[:60]],
            }
        )


def riluzole_citation(bot) -> dict:
    """The citation that quotes the riluzole dose fact, as the API reports it."""
    d = bot.ask(RILUZOLE_QUESTION, audience="clinician").to_dict()
    for c in d["citations"]:
        if RILUZOLE_FACT in c["quote"]:
            return c
    raise AssertionError(f"no citation quotes {RILUZOLE_FACT!r}: {d['citations']}")


# --- the accessibility audit: axe-core from the npm registry (tests/ui_assets, `make axe`) -------

AXE = Path(__file__).resolve().parent / "ui_assets" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:
    """Run axe-core's WCAG 2.1 A/AA rules on ``page``; the violations, each with its nodes."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return result["violations"]


def describe(violations: list[dict]) -> str:
    """The violations, one line per element, for an assertion message."""
    lines = []
    for v in violations:
        for node in v["nodes"]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"{v['id']} ({v['impact']}): {node['target']} {summary}")
    return "\n".join(lines)

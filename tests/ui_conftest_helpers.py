"""Shared pieces of the UI tests: one real assistant served by the real Gradio app.

``test_ui_api.py`` and ``test_ui_browser.py`` each declare a session fixture that enters
:func:`shared_ui_server`; the first one starts the server, the last one to finish closes it, so
a run of both files loads the assistant and ingests the corpus once.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


_lock = threading.Lock()
_server: UIServer | None = None
_users = 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "config", timeout=2) as r:  # loopback only
                if r.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def _start(tmp_path_factory) -> UIServer:
    from assistant import Assistant
    from ui.app import create_app, launch

    bot = Assistant.load(index_dir=tmp_path_factory.mktemp("index"))
    app = create_app(bot)
    for attempt in range(3):  # a free port can be taken between the probe and the bind
        port = free_port()
        try:
            launch(app, HOST, port, None, prevent_thread_lock=True, quiet=True)
            break
        except OSError:
            if attempt == 2:
                raise
    url = f"http://{HOST}:{port}/"
    _wait_until_up(url)
    return UIServer(url=url, bot=bot, app=app)


@contextmanager
def shared_ui_server(tmp_path_factory) -> Iterator[UIServer]:
    """The session's UI server, started on first use and closed after its last user."""
    global _server, _users
    with _lock:
        if _server is None:
            _server = _start(tmp_path_factory)
        _users += 1
        server = _server
    try:
        yield server
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _server is not None:
                _server.app.close()
                _server = None


def riluzole_citation(bot) -> dict:
    """The citation that quotes the riluzole dose fact, as the API reports it."""
    d = bot.ask(RILUZOLE_QUESTION, audience="clinician").to_dict()
    for c in d["citations"]:
        if RILUZOLE_FACT in c["quote"]:
            return c
    raise AssertionError(f"no citation quotes {RILUZOLE_FACT!r}: {d['citations']}")

"""A Chroma server that goes away mid-conversation: one clear error, then it recovers."""

from __future__ import annotations

import json
import os

import pytest
import reliability_helpers as h
from reliability_helpers import RILUZOLE, RILUZOLE_FACT

from assistant.index import IndexUnavailableError

pytestmark = pytest.mark.integration
FOLLOW_UP = "What are the side effects of it?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = h.ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def server_bot(server):
    from assistant import Assistant

    return Assistant.load(chroma_host=h.HOST, chroma_port=server.port)


@pytest.fixture
def outage(server):
    """Stop the server for the body of a ``with outage():`` block, then start it again."""
    from contextlib import contextmanager

    @contextmanager
    def down():
        server.stop()
        try:
            yield
        finally:
            server.start()

    yield down
    if server.proc is None or server.proc.poll() is not None:
        server.start()


def test_api_one_clear_error_then_the_conversation_goes_on(server_bot, server, outage):
    conv = server_bot.conversation("clinician")
    assert RILUZOLE_FACT in conv.ask(RILUZOLE).answer
    with outage(), pytest.raises(IndexUnavailableError) as err:
        conv.ask(FOLLOW_UP)
    message = str(err.value)
    assert "\n" not in message and f"{h.HOST}:{server.port}" in message
    assert "does not answer" in message and "check that it is running" in message
    answer = conv.ask(FOLLOW_UP)  # the server is back: same conversation, same subject
    assert answer.status == "answered" and "riluzole" in answer.search_query.lower()


def test_http_the_page_stays_up_and_recovers(server_bot, outage):
    from gradio_client import Client

    from ui.app import create_app

    app = create_app(server_bot)
    url = h.serve(app)
    try:
        client = Client(url, verbose=False)
        assert (
            RILUZOLE_FACT in client.predict(RILUZOLE, "clinician", "[]", api_name="/ask")["answer"]
        )
        with outage():
            d = client.predict(RILUZOLE, "clinician", "[]", api_name="/ask")
            assert set(d) == {"error"}, d
            h.check_error(d["error"], "")
            result = client.predict(RILUZOLE, "clinician", api_name="/chat")  # the page's chat
            chat = next(v for v in result if isinstance(v, list))
            assert chat[-1]["role"] == "assistant" and "Traceback" not in json.dumps(chat)
        d = client.predict(RILUZOLE, "clinician", "[]", api_name="/ask")
        assert "error" not in d and RILUZOLE_FACT in d["answer"]
    finally:
        app.close()


def test_cli_chat_reports_the_outage_on_one_line_and_carries_on(server, server_bot, outage):
    env = {"ASSISTANT_CHROMA_HOST": h.HOST, "ASSISTANT_CHROMA_PORT": str(server.port)}
    proc = h.cli("chat", "--json", stdin=h.subprocess.PIPE, env_extra=env)

    def turn(line: str) -> dict:
        proc.stdin.write(line.encode() + b"\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())

    try:
        assert RILUZOLE_FACT in turn(RILUZOLE)["answer"]
        with outage():
            d = turn(FOLLOW_UP)
            assert set(d) == {"error"}, d
            h.check_error(d["error"], "does not answer")
        d = turn(FOLLOW_UP)
        assert d["status"] == "answered" and "riluzole" in d["search_query"].lower()
    finally:
        proc.stdin.close()
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
    assert "Traceback" not in err and proc.returncode == 1  # a turn failed
    assert os.environ.get("ASSISTANT_CHROMA_HOST") is None  # nothing leaked into this process

"""At least 25 bad inputs on each surface (API, CLI, HTTP): a clear message or a sound answer.

Every error is one line without a traceback, naming the problem; every answer keeps its
audience's disclaimer and quotes every threshold fact verbatim.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
import reliability_helpers as h
from reliability_helpers import CASES, RILUZOLE, RILUZOLE_FACT

pytestmark = pytest.mark.integration


def test_enough_cases_for_every_surface():
    assert len(CASES) >= 25
    assert len([c for c in CASES if c.line]) + len(ASK_ARGS) >= 25


# --- the Python API --------------------------------------------------------------------------

API_ONLY = [
    h.Case("bytes-not-utf8", b"\xff\xfe riluzole", "UTF-8"),
    h.Case("bytes-utf8", RILUZOLE.encode("utf-8"), wants=RILUZOLE_FACT),
    h.Case("none", None, "must be text"),
    h.Case("number", 42, "must be text"),
    h.Case("history-a-dict", RILUZOLE, "history", history={"role": "user", "content": "x"}),
]


@pytest.mark.parametrize("case", CASES + API_ONLY, ids=lambda c: c.id)
def test_api(bot, case):
    if case.error:
        with pytest.raises(ValueError) as err:
            bot.ask(case.question, audience=case.audience, history=case.history)
        h.check_error(str(err.value), case.error)
    else:
        d = bot.ask(case.question, audience=case.audience, history=case.history).to_dict()
        h.check_answer(d, bot.rules, case)


def test_api_stream_refuses_bad_input_before_the_first_event(bot):
    for case in [c for c in CASES if c.error]:
        with pytest.raises(ValueError):
            next(bot.ask_stream(case.question, case.audience, case.history))


# --- the HTTP API of the chat page (/gradio_api/..., through gradio_client) ------------------

HTTP_ONLY = [
    h.Case("history-json-malformed", RILUZOLE, "history_json", history="not json"),
    h.Case("history-json-object", RILUZOLE, "history_json", history='{"role": "user"}'),
    h.Case("history-json-number", RILUZOLE, "history_json", history="42"),
]


def _history_json(case) -> str:
    if isinstance(case.history, str) and case.id.startswith("history-json"):
        return case.history
    return json.dumps(case.history if case.history is not None else [])


@pytest.fixture(scope="module")
def client(page_url):
    from gradio_client import Client

    return Client(page_url, verbose=False)


@pytest.mark.parametrize(
    "case",  # a lone surrogate cannot travel as JSON text
    [c for c in CASES if not c.id.startswith("lone-surrogate")] + HTTP_ONLY,
    ids=lambda c: c.id,
)
def test_http_ask(bot, client, case):
    d = client.predict(case.question, case.audience, _history_json(case), api_name="/ask")
    if case.error:
        assert set(d) == {"error"}, d
        h.check_error(d["error"], case.error)
    else:
        assert "error" not in d, d
        h.check_answer(d, bot.rules, case)


def _call(page_url: str, body: bytes) -> tuple[int, str]:
    """POST to the page's /ask endpoint and read the event stream, as any HTTP client would."""
    request = urllib.request.Request(
        page_url + "gradio_api/call/ask", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as r:  # loopback only
            event = json.loads(r.read())["event_id"]
        with urllib.request.urlopen(f"{page_url}gradio_api/call/ask/{event}", timeout=60) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b'{"data": "not a list"}',
        b'{"data": [42, {"x": 1}, null]}',
        b'{"data": []}',
        b"\xff\xfe\x00",
    ],
    ids=["not-json", "data-not-a-list", "wrong-types", "no-arguments", "binary"],
)
def test_http_raw_requests_get_no_traceback_and_the_page_stays_up(page_url, client, body):
    status, text = _call(page_url, body)
    assert "Traceback" not in text and 'File "' not in text, text[:500]
    assert status < 500, (status, text[:300])
    d = client.predict(RILUZOLE, "clinician", "[]", api_name="/ask")
    assert RILUZOLE_FACT in d["answer"]


def test_http_chat_shows_the_error_and_keeps_the_conversation(page_url):
    from gradio_client import Client

    c = Client(page_url, verbose=False)  # its own session
    c.predict(RILUZOLE, "clinician", api_name="/chat")
    for case in [x for x in CASES if x.error and x.line][:8]:
        result = c.predict(case.question, "clinician", api_name="/chat")
        chat = next(v for v in result if isinstance(v, list))
        last = chat[-1]["content"]
        if isinstance(last, list):  # [{"type": "text", "text": ...}]
            last = " ".join(part.get("text", "") for part in last)
        assert last.startswith("⚠️") and case.error.lower() in last.lower(), (case.id, last)
    result = c.predict("What are the side effects of it?", "clinician", api_name="/chat")
    sources = next(v for v in result if isinstance(v, str) and 'class="sources"' in v)
    assert "riluzole" in sources.lower()  # the follow-up still reads the first question


# --- the CLI ---------------------------------------------------------------------------------

ASK_ARGS = [
    (["ask", ""], "empty"),
    (["ask", "   "], "empty"),
    (["ask", "\x1b[2J\x1b[HWhat is riluzole?"], "control characters"),
    (["ask", "\u202eWhat is riluzole?"], "control characters"),
    (["ask", "x" * 2500], "too long"),
    (["ask", "What is riluzole?", "--audience", "everyone"], "invalid choice"),
]


def test_cli_ask_refuses_bad_arguments_with_status_2(tmp_path):
    procs = [(h.cli(*args, "--index-dir", str(tmp_path / "ix")), word) for args, word in ASK_ARGS]
    bad_bytes = h.cli_bytes([b"ask", b"What is \xff\xfe riluzole?"])
    procs.append((bad_bytes, "UTF-8"))
    for proc, word in procs:
        out, err = proc.communicate(timeout=300)
        text = err.decode("utf-8", "replace")
        assert proc.returncode == 2, (word, proc.returncode, text)
        assert out == b"" and "Traceback" not in text, text
        assert word.lower() in text.lower(), (word, text)
    assert not (tmp_path / "ix").exists()  # refused before anything was loaded


def test_cli_chat_answers_or_refuses_each_line_and_keeps_the_conversation(bot, index_dir):
    lines = [c for c in CASES if c.line]
    raw = [RILUZOLE.encode()]
    raw += [c.question.encode("utf-8") for c in lines]
    raw += [
        b"What is \xff riluzole?",
        b"q" * 10_000_000,
        b"What are the side effects of it?",
    ]
    proc = h.cli("chat", "--json", "--index-dir", str(index_dir), stdin=h.subprocess.PIPE)
    out, err = proc.communicate(b"\n".join(raw) + b"\n", timeout=600)
    assert "Traceback" not in err.decode("utf-8", "replace")
    replies = [json.loads(x) for x in out.decode("utf-8").splitlines()]
    assert len(replies) == len(raw), (len(replies), len(raw))
    assert proc.returncode == 2  # some turn was bad input
    first, *middle, utf8, endless, follow_up = replies
    assert RILUZOLE_FACT in first["answer"]
    for case, d in zip(lines, middle, strict=True):
        if case.error:
            assert set(d) == {"error"}, (case.id, d)
            h.check_error(d["error"], case.error)
        else:
            h.check_answer(d, bot.rules, case)
    h.check_error(utf8["error"], "UTF-8")
    h.check_error(endless["error"], "too long")
    assert "riluzole" in follow_up["search_query"].lower()

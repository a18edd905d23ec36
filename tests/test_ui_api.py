"""The UI's HTTP API through gradio_client: /ask (stateless) and /chat (per-session state)."""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

try:
    import ui_conftest_helpers as h
except ImportError:  # tests/ became a package
    from tests import ui_conftest_helpers as h

from gradio_client import Client

pytestmark = pytest.mark.integration

# Ten conversations, each about its own subject; the follow-up only says "it".
CONVERSATIONS = {
    "riluzole": "What is the recommended riluzole dose?",
    "edaravone": "What is edaravone used for?",
    "non-invasive ventilation": "When should non-invasive ventilation be started in ALS?",
    "tracheostomy": "When is a tracheostomy considered?",
    "palliative care": "What does palliative care offer in ALS?",
    "sialorrhea": "How is sialorrhea (drooling) treated in ALS?",
    "FVC": "How is FVC used to monitor breathing?",
    "electromyography": "What is electromyography used for in ALS?",
    "cramps": "How are cramps treated in ALS?",
    "weight loss": "How is weight loss managed in ALS?",
}
FOLLOW_UP = "What are the risks of it?"


@pytest.fixture(scope="module")
def client(ui_server):
    return Client(ui_server.url, verbose=False)


def test_ask_answers_riluzole_dose_with_citation_and_disclaimer(client):
    d = client.predict("What is the riluzole dose?", "clinician", "[]", api_name="/ask")
    assert "error" not in d, d
    assert d["status"] == "answered"
    assert d["audience"] == "clinician"
    assert any("50 mg twice daily" in c["quote"] for c in d["citations"]), d["citations"]
    assert d["disclaimer"].startswith(h.CLINICIAN_DISCLAIMER)


def test_ask_uses_history_json(client):
    first = client.predict(h.RILUZOLE_QUESTION, "clinician", "", api_name="/ask")
    history = [
        {"role": "user", "content": h.RILUZOLE_QUESTION},
        {"role": "assistant", "content": first["answer"]},
    ]
    d = client.predict(FOLLOW_UP, "patient", json.dumps(history), api_name="/ask")
    assert "error" not in d, d
    assert d["audience"] == "patient"
    assert "riluzole" in d["search_query"].lower()
    assert d["disclaimer"].startswith(h.PATIENT_DISCLAIMER)


@pytest.mark.parametrize(
    ("question", "audience", "history_json", "expected"),
    [
        ("", "auto", "[]", "empty"),
        ("   ", "auto", "", "empty"),
        ("x" * 3000, "auto", "[]", "too long"),
        ("What is riluzole?\x00", "auto", "[]", "control characters"),
        ("What is riluzole?", "everyone", "[]", "audience"),
        ("What is riluzole?", "auto", "not json", "history_json"),
        ("What is riluzole?", "auto", '{"role": "user"}', "history_json"),
        ("What is riluzole?", "auto", '[{"role": "wizard", "content": 1}]', "role"),
    ],
)
def test_ask_bad_input_returns_an_error_dict(client, question, audience, history_json, expected):
    d = client.predict(question, audience, history_json, api_name="/ask")
    assert set(d) == {"error"}, d
    assert expected.lower() in d["error"].lower()
    assert "Traceback" not in d["error"]


def _texts(messages) -> list[tuple[str, str]]:
    """(role, text) for the chatbot value gradio_client returns."""
    out = []
    for m in messages:
        content = m["content"]
        if isinstance(content, list):
            content = " ".join(c.get("text", "") for c in content if isinstance(c, dict))
        out.append((m["role"], str(content)))
    return out


def _chat(client: Client, question: str, audience: str):
    """One turn through the page's own chat event; returns (chat messages, sources HTML)."""
    result = client.predict(question, audience, api_name="/chat")
    chat = next(v for v in result if isinstance(v, list))
    sources = next(v for v in result if isinstance(v, str) and 'class="sources"' in v)
    return _texts(chat), sources


def _conversation(url: str, subject: str, question: str):
    client = Client(url, verbose=False)  # each Client is its own browser session
    _chat(client, question, "clinician")
    return subject, *_chat(client, FOLLOW_UP, "clinician")


def test_concurrent_sessions_never_see_each_others_turns(ui_server):
    with ThreadPoolExecutor(max_workers=len(CONVERSATIONS)) as pool:
        results = list(
            pool.map(
                lambda kv: _conversation(ui_server.url, *kv),
                CONVERSATIONS.items(),
            )
        )
    assert len(results) == len(CONVERSATIONS)
    for subject, chat, sources in results:
        own = CONVERSATIONS[subject]
        # The chat holds exactly this session's two questions, each followed by one answer.
        assert [text for role, text in chat if role == "user"] == [own, FOLLOW_UP], chat
        assert [role for role, _ in chat] == ["user", "assistant"] * 2, chat
        # The follow-up was resolved against this session's history, not another's.
        searched = re.search(r"Searched for: “(.*?)”", sources)
        assert searched, sources[:500]
        query = searched.group(1).lower()
        assert subject.lower() in query, (subject, query)
        others = [s for s in CONVERSATIONS if s != subject and s.lower() in query]
        assert not others, (subject, query)


def test_new_conversation_clears_the_session(ui_server):
    client = Client(ui_server.url, verbose=False)
    _chat(client, h.RILUZOLE_QUESTION, "clinician")
    client.predict(api_name="/new")
    chat, sources = _chat(client, FOLLOW_UP, "clinician")
    assert [t for r, t in chat if r == "user"] == [FOLLOW_UP]
    assert "riluzole" not in (re.search(r"Searched for: “(.*?)”", sources) or [""])[0].lower()


def test_upload_is_refused_and_stores_nothing(ui_server):
    import httpx

    response = httpx.post(
        ui_server.url + "gradio_api/upload", files={"files": ("notes.txt", b"any file at all")}
    )
    assert response.status_code == 403, response.text
    assert "notes.txt" not in response.text


def test_the_page_loads_images_only_from_itself(ui_server):
    import httpx

    policy = httpx.get(ui_server.url).headers["content-security-policy"]
    assert "img-src 'self' data: blob:" in policy

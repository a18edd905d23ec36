"""The chat page's event handlers and the ``/ask`` endpoint.

Each handler returns ``{component: update}`` for the components of a :class:`Page`; the answer is
rendered with :mod:`ui.render`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.index import IndexProblem

from .context import contexts_for
from .export import answer_markdown, conversation_markdown, slim
from .render import (
    DRAFTING,
    GENERIC_ERROR,
    INDEX_UNAVAILABLE,
    SEARCHING,
    SOURCES_PLACEHOLDER,
    esc,
    plain_text,
    render_audience,
    render_banner,
    render_draft,
    render_message,
    render_sources,
    render_status,
    render_user_message,
)

log = logging.getLogger(__name__)

MAX_HISTORY_MESSAGES = 12
MAX_SUGGESTIONS = 3
MAX_TURNS = 50  # answers kept for the export

AUDIENCE_CHOICES = [
    ("Clinician", "clinician"),
    ("Patient or caregiver", "patient"),
    ("Let the assistant decide", "auto"),
]
AUDIENCES = {value for _, value in AUDIENCE_CHOICES}


def parse_history(history_json: str | None) -> list[dict]:
    """The API's ``history_json``: "" or a JSON list; the assistant validates the items."""
    if history_json is None or not str(history_json).strip():
        return []
    try:
        value = json.loads(history_json)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            'history_json must be a JSON list like [{"role": "user", "content": "..."}].'
        ) from exc
    if not isinstance(value, list):
        raise ValueError('history_json must be a JSON list like [{"role": "user", ...}].')
    return value


def answer_events(assistant, question: str, audience: str, history: list[dict]) -> Iterator:
    """("draft", text)* then ("final", dict). Uses ``ask_stream`` when the backend has it."""
    stream = getattr(assistant, "ask_stream", None)
    if callable(stream):
        for kind, payload in stream(question, audience, history):
            if kind == "draft":
                yield "draft", "" if payload is None else str(payload)
            elif kind == "final":
                yield "final", payload.to_dict() if hasattr(payload, "to_dict") else dict(payload)
                return
        raise RuntimeError("ask_stream ended without a final answer")
    yield "final", assistant.ask(question, audience=audience, history=history).to_dict()


@dataclass
class Page:
    """The page's components: the handlers' inputs and what they update."""

    audience_radio: gr.Radio
    chatbot: gr.Chatbot
    banner: gr.HTML
    disclaimer: gr.Markdown
    question_box: gr.Textbox
    send_button: gr.Button
    suggestions_label: gr.Markdown
    suggestion_buttons: list[gr.Button]
    audience_used: gr.Markdown
    new_button: gr.Button
    sources_panel: gr.HTML
    status: gr.HTML  # the screen reader's live region
    copy_button: gr.Button
    download_button: gr.Button
    answer_markdown: gr.Textbox  # hidden: what the copy button copies
    conversation_markdown: gr.Textbox  # hidden: what the download button saves
    history_state: gr.State  # what ask() sees: [{"role", "content"}], last 12 messages
    chat_state: gr.State  # what the chat shows
    turns_state: gr.State  # the answers so far (Answer.to_dict(), slimmed), for the export

    @property
    def outputs(self) -> list:
        return [
            self.question_box,
            self.chatbot,
            self.chat_state,
            self.history_state,
            self.sources_panel,
            self.disclaimer,
            self.audience_used,
            self.banner,
            self.suggestions_label,
            *self.suggestion_buttons,
            self.status,
            self.copy_button,
            self.download_button,
            self.answer_markdown,
            self.conversation_markdown,
            self.turns_state,
        ]


class Handlers:
    """The page's event handlers and the ``/ask`` endpoint, over one assistant."""

    def __init__(self, assistant, page: Page):
        self.assistant = assistant
        self.page = page

    def api_ask(self, question: str, audience: str = "auto", history_json: str = "[]") -> dict:
        """Answer one question; returns Answer.to_dict(), or {"error": message} for bad input."""
        try:
            history = parse_history(history_json)
            if audience not in AUDIENCES:
                raise ValueError("audience must be 'auto', 'clinician' or 'patient'.")
            return self.assistant.ask(question, audience=audience, history=history).to_dict()
        except ValueError as exc:
            return {"error": str(exc)}
        except IndexProblem as exc:
            log.warning("the /ask endpoint: %s", exc)
            return {"error": INDEX_UNAVAILABLE}
        except Exception:
            log.exception("the /ask endpoint failed")
            return {"error": GENERIC_ERROR}

    def respond(self, message, audience, chat, history, turns=None):
        """One turn: show the question, answer it, render the answer."""
        p = self.page
        history = list(history or [])
        turns = list(turns or [])
        text = message if isinstance(message, str) else ""
        audience = audience if audience in AUDIENCES else "auto"
        shown = list(chat or []) + (
            [{"role": "user", "content": render_user_message(text)}] if text.strip() else []
        )
        yield {
            p.question_box: "",
            p.chatbot: [*shown, {"role": "assistant", "content": SEARCHING}],
            p.status: SEARCHING,
        }
        try:
            final = None
            for kind, payload in answer_events(self.assistant, text, audience, history):
                if kind == "draft":
                    yield {p.chatbot: [*shown, _draft_message(payload)]}
                else:
                    final = payload
        except ValueError as exc:
            yield self._failed(shown, text, str(exc))
            return
        except IndexProblem as exc:  # a Chroma server outage...: say so; the next ask may work
            log.warning("answering failed: %s", exc)
            yield self._failed(shown, text, INDEX_UNAVAILABLE)
            return
        except Exception:
            log.exception("answering failed")
            yield self._failed(shown, text, GENERIC_ERROR)
            return
        yield self._answered(shown, text, history, turns, final)

    def respond_to_suggestion(self, label, audience, chat, history, turns=None):
        """A clicked suggestion is asked as is; whatever is typed in the box stays there."""
        for update in self.respond(label, audience, chat, history, turns):
            update.pop(self.page.question_box, None)
            yield update

    def reset(self):
        p = self.page
        return {
            p.question_box: "",
            p.chatbot: [],
            p.chat_state: [],
            p.history_state: [],
            p.sources_panel: SOURCES_PLACEHOLDER,
            p.disclaimer: gr.update(value="", visible=False),
            p.audience_used: "",
            p.banner: gr.update(value="", visible=False),
            p.suggestions_label: gr.update(visible=False),
            **{b: gr.update(visible=False) for b in p.suggestion_buttons},
            p.status: "",
            p.copy_button: gr.update(visible=False),
            p.download_button: gr.update(visible=False),
            p.answer_markdown: "",
            p.conversation_markdown: "",
            p.turns_state: [],
        }

    def _failed(self, shown: list, text: str, message: str) -> dict:
        """The question stays in the box; the chat says what went wrong."""
        p = self.page
        chat = [*shown, {"role": "assistant", "content": f"⚠️ {plain_text(message)}"}]
        return {p.question_box: text, p.chatbot: chat, p.chat_state: chat, p.status: esc(message)}

    def _answered(
        self, shown: list, text: str, history: list, turns: list, final: dict
    ) -> dict[Any, Any]:
        p = self.page
        chat = [*shown, {"role": "assistant", "content": render_message(final)}]
        history = [
            *history,
            {"role": "user", "content": final.get("question") or text.strip()},
            {"role": "assistant", "content": final.get("answer") or ""},
        ][-MAX_HISTORY_MESSAGES:]
        turns = [*turns, slim(final)][-MAX_TURNS:]
        suggestions = [s for s in final.get("suggestions") or [] if s][:MAX_SUGGESTIONS]
        emergency = final.get("status") == "emergency"
        update = {
            p.chatbot: chat,
            p.chat_state: chat,
            p.history_state: history,
            p.sources_panel: render_sources(final, contexts_for(self.assistant, final)),
            p.disclaimer: gr.update(
                value=final.get("disclaimer") or "", visible=bool(final.get("disclaimer"))
            ),
            p.audience_used: render_audience(final),
            p.banner: gr.update(value=render_banner(final) if emergency else "", visible=emergency),
            p.suggestions_label: gr.update(visible=bool(suggestions)),
            p.status: esc(render_status(final)),
            p.copy_button: gr.update(visible=True),
            p.download_button: gr.update(visible=True),
            p.answer_markdown: answer_markdown(final),
            p.conversation_markdown: conversation_markdown(turns),
            p.turns_state: turns,
        }
        for k, button in enumerate(p.suggestion_buttons):
            label = suggestions[k] if k < len(suggestions) else ""
            update[button] = gr.update(value=label or "…", visible=bool(label))
        return update


def _draft_message(text: str) -> dict:
    return {
        "role": "assistant",
        "content": render_draft(text),
        "metadata": {"title": DRAFTING, "status": "pending"},
    }

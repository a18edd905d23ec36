"""The chat UI: a Gradio front end over :class:`assistant.Assistant`.

The UI holds no business logic: it calls ``assistant.ask(...)`` (or ``ask_stream`` when a
backend offers it) and renders ``Answer.to_dict()``.

``create_app(assistant)`` builds the page, ``launch(app, ...)`` serves it and ``main(args)`` is
what ``assistant serve`` runs.
"""

from __future__ import annotations

import html
import json
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

# Before gradio is imported: no telemetry, no version check, no model hub.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"

import gradio as gr

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
MAX_HISTORY_MESSAGES = 12
MAX_SUGGESTIONS = 3
PREVIEW_CHARS = 280

AUDIENCE_CHOICES = [
    ("Clinician", "clinician"),
    ("Patient or caregiver", "patient"),
    ("Let the assistant decide", "auto"),
]
AUDIENCES = {value for _, value in AUDIENCE_CHOICES}

SEARCHING = "Searching the guidelines…"
DRAFTING = "Drafting… (not yet checked)"
GENERIC_ERROR = (
    "Sorry, something went wrong while answering. Please try again, or rephrase the question."
)
EMERGENCY_FALLBACK = "If this is an emergency, call your local emergency number now."
SOURCES_PLACEHOLDER = (
    '<div class="sources"><h3>Sources</h3>'
    '<p class="muted">The passages each answer is based on appear here, quoted word for word.'
    "</p></div>"
)
INTRO = (
    "Answers come only from the ALS guideline documents in this library, with every statement "
    "linked to the passage it quotes. It does not know about you and does not replace your "
    "care team. **In an emergency, call your local emergency number.**"
)
PLACEHOLDER = (
    "**Ask a question about ALS.** For example:\n\n"
    "- What is the recommended riluzole dose?\n"
    "- When should non-invasive ventilation be started in ALS?\n"
    "- What are the first signs of ALS?"
)

CSS = """
#emergency-banner { background: #b00020 !important; border: 3px solid #6d0014 !important;
  border-radius: 10px; padding: 14px 18px !important; }
#emergency-banner .emergency, #emergency-banner .emergency * { color: #fff !important; }
#emergency-banner .emergency { font-size: 1.2rem; font-weight: 700; line-height: 1.4; }
#emergency-banner .emergency-title { display: block; font-size: 0.9rem; letter-spacing: .08em;
  text-transform: uppercase; margin-bottom: 4px; }
#disclaimer { font-size: 0.85rem; font-style: italic; color: var(--body-text-color-subdued);
  border-left: 3px solid var(--border-color-accent); padding: 2px 0 2px 10px; }
#disclaimer p { margin: 0; }
#audience-radio label.selected { border-color: var(--color-accent);
  background: var(--color-accent-soft); font-weight: 600; }
#audience-used { font-size: 0.8rem; color: var(--body-text-color-subdued); }
#audience-used p { margin: 0; }
#suggestions-label p { margin: 0; font-size: 0.85rem; color: var(--body-text-color-subdued); }
#sources-panel { max-height: 78vh; overflow-y: auto; }
#sources-panel h3 { margin: 0 0 8px 0; }
#sources-panel h4 { margin: 10px 0 4px 0; }
#sources-panel .muted { color: var(--body-text-color-subdued); font-size: 0.9rem; }
#sources-panel .source { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 8px 10px; margin-bottom: 10px; }
#sources-panel .source-meta, #sources-panel .source-refs { font-size: 0.8rem;
  color: var(--body-text-color); opacity: 0.8; }
#sources-panel blockquote { margin: 6px 0; padding: 4px 10px;
  border-left: 4px solid var(--color-accent); background: var(--background-fill-secondary);
  font-size: 0.9rem; }
#sources-panel .facts { border: 2px solid var(--color-accent); border-radius: 8px;
  padding: 6px 10px; margin-bottom: 12px; }
#sources-panel .facts li, #sources-panel .differ li { margin: 4px 0; }
#sources-panel .details { font-size: 0.8rem; color: var(--body-text-color-subdued); }
"""


SYSTEM_FONTS = [
    "system-ui",
    "Segoe UI",
    "Roboto",
    "Helvetica Neue",
    "Arial",
    "Liberation Sans",
    "sans-serif",
]
MONO_FONTS = ["ui-monospace", "Consolas", "Liberation Mono", "monospace"]


def theme() -> gr.themes.Base:
    """A calm blue theme with system fonts only (nothing fetched from the internet)."""
    return gr.themes.Default(primary_hue="blue", font=SYSTEM_FONTS, font_mono=MONO_FONTS)


# --- rendering (pure functions of to_dict()) ------------------------------------------------


def _esc(value: Any) -> str:
    """HTML-escape text for the sources panel (braces and $ too: gr.HTML runs a template)."""
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


def _audience_words(audience: str | None) -> str:
    return {"clinician": "clinicians", "patient": "patients and caregivers"}.get(
        audience or "", audience or "unknown"
    )


def render_sources(d: dict) -> str:
    """The sources panel: verbatim threshold facts, differences, then every citation."""
    citations = d.get("citations") or []
    titles = {c.get("n"): c.get("title") for c in citations}
    out = ['<div class="sources"><h3>Sources</h3>']
    facts = d.get("facts") or []
    if facts:
        out.append('<div class="facts"><h4>Verbatim threshold facts</h4><ul>')
        for f in facts:
            n = f.get("n")
            mark = f" [{_esc(n)}]" if n is not None else ""
            out.append(f'<li class="fact">“{_esc(f.get("text"))}”{mark}</li>')
        out.append("</ul></div>")
    differences = d.get("differences") or []
    if differences:
        out.append('<div class="differ"><h4>Where the sources differ</h4>')
        for diff in differences:
            out.append(f"<p><strong>{_esc(diff.get('quantity'))}</strong></p><ul>")
            for item in diff.get("items") or []:
                n = item.get("n")
                where = f" — {_esc(titles.get(n, item.get('doc')))} [{_esc(n)}]" if n else ""
                out.append(f"<li>“{_esc(item.get('text'))}”{where}</li>")
            out.append("</ul>")
        out.append("</div>")
    if not citations:
        out.append('<p class="muted">No sources: this reply does not quote the guidelines.</p>')
    for c in citations:
        n = c.get("n")
        meta = [f"Section: {_esc(c.get('section') or '—')}"]
        if c.get("publisher"):
            meta.append(_esc(c["publisher"]))
        meta.append(f"Last updated {_esc(c.get('last_updated') or 'unknown')}")
        if c.get("doc_audience"):
            meta.append(f"Written for {_esc(_audience_words(c['doc_audience']))}")
        out.append(f'<div class="source" id="source-{_esc(n)}">')
        out.append(f'<div class="source-head"><strong>[{_esc(n)}] {_esc(c.get("title"))}</strong>')
        out.append(f'</div><div class="source-meta">{" · ".join(meta)}</div>')
        if c.get("lead"):
            out.append(f'<div class="source-meta">Under: {_esc(c["lead"])}</div>')
        out.append(f'<blockquote class="quote">{_esc(c.get("quote"))}</blockquote>')
        refs = c.get("references") or []
        if refs:
            labels = []
            for r in refs:
                label = _esc(r.get("label") or r.get("source") or "")
                title = _esc(r.get("title") or "")
                num = f"[{_esc(r.get('n'))}] " if r.get("n") is not None else ""
                labels.append(f"{num}{title} — {label}" if title else f"{num}{label}")
            out.append(f'<div class="source-refs">References: {"; ".join(labels)}</div>')
        unlisted = c.get("unlisted_markers") or []
        if unlisted:
            marks = ", ".join(_esc(m) for m in unlisted)
            out.append(
                f'<div class="source-refs">Reference markers in the source without a listed '
                f"reference: {marks}</div>"
            )
        out.append("</div>")
    details = _details(d)
    if details:
        out.append(f'<div class="details"><h4>How this answer was found</h4>{details}</div>')
    out.append("</div>")
    return "".join(out)


def _details(d: dict) -> str:
    items = []
    query = d.get("search_query")
    if query and query != d.get("question"):
        items.append(f"Searched for: “{_esc(query)}”")
    guard = d.get("guard") or {}
    for fix in guard.get("spelling") or []:
        items.append(f"Spelling: {_esc(fix)}")
    for note in guard.get("notes") or []:
        items.append(_esc(note))
    if d.get("fallback_reason"):
        items.append(f"Note: {_esc(d['fallback_reason'])}")
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""


def render_message(d: dict) -> str:
    """The assistant's chat bubble (Markdown): the answer, and why when it refused."""
    text = d.get("answer") or ""
    if d.get("status") == "refused" and d.get("reason"):
        text += f"\n\n<small>Why I can't answer this one: {_esc(d['reason'])}.</small>"
    return text


def render_audience(d: dict) -> str:
    route = d.get("route") or {}
    used = d.get("audience") or route.get("audience") or "unknown"
    if route.get("requested") == "auto":
        why = f"auto: {route['reason']}" if route.get("reason") else "chosen automatically"
    else:
        why = "as you chose"
    line = f"Answering for: {used} ({why})"
    if route.get("injection_detected"):
        line += " · instructions inside the question were ignored"
    return line


def render_banner(d: dict) -> str:
    first = (d.get("answer") or "").strip().splitlines()
    line = first[0].strip().strip("*").strip() if first else ""
    return (
        '<div class="emergency" role="alert"><span class="emergency-title">⚠ Emergency</span>'
        f"{_esc(line or EMERGENCY_FALLBACK)}</div>"
    )


def _preview(text: str) -> str:
    text = text.strip()
    if len(text) > PREVIEW_CHARS:
        return f"{text[:PREVIEW_CHARS]}… ({len(text)} characters)"
    return text


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


def _answer_events(assistant, question: str, audience: str, history: list[dict]) -> Iterator:
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


# --- the app ----------------------------------------------------------------------------------


def create_app(assistant, *, concurrency_limit: int | None = None) -> gr.Blocks:
    """Build the chat page for ``assistant`` (anything with ``ask(question, audience, history)``).

    ``concurrency_limit`` bounds how many questions are answered at once across all sessions
    (default: ``ASSISTANT_UI_CONCURRENCY`` or 1; the pipeline is CPU-bound).
    """
    if concurrency_limit is None:
        concurrency_limit = int(os.environ.get("ASSISTANT_UI_CONCURRENCY") or 1)

    def api_ask(question: str, audience: str = "auto", history_json: str = "[]") -> dict:
        """Answer one question; returns Answer.to_dict(), or {"error": message} for bad input."""
        try:
            history = parse_history(history_json)
            if audience not in AUDIENCES:
                raise ValueError("audience must be 'auto', 'clinician' or 'patient'.")
            return assistant.ask(question, audience=audience, history=history).to_dict()
        except ValueError as exc:
            return {"error": str(exc)}
        except Exception:
            log.exception("the /ask endpoint failed")
            return {"error": GENERIC_ERROR}

    with gr.Blocks(title="ALS guideline assistant", analytics_enabled=False) as app:
        history_state = gr.State([])  # what ask() sees: [{"role", "content"}], last 12 messages
        chat_state = gr.State([])  # what the chat shows

        gr.Markdown("# ALS guideline assistant", elem_id="title")
        gr.Markdown(INTRO, elem_id="intro")
        audience_radio = gr.Radio(
            AUDIENCE_CHOICES,
            value="auto",
            label="Which best describes you?",
            info="You can change this at any time; it sets the wording and the disclaimer.",
            elem_id="audience-radio",
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    elem_id="chatbot",
                    height=460,
                    placeholder=PLACEHOLDER,
                    buttons=["copy", "copy_all"],
                    latex_delimiters=[],
                    feedback_options=None,
                    autoscroll=True,
                    group_consecutive_messages=False,
                )
                banner = gr.HTML(visible=False, elem_id="emergency-banner")
                disclaimer = gr.Markdown(visible=False, elem_id="disclaimer")
                with gr.Row(equal_height=True):
                    question_box = gr.Textbox(
                        show_label=False,
                        placeholder="Type your question and press Enter…",
                        lines=1,
                        max_lines=6,
                        scale=8,
                        elem_id="question-box",
                        autofocus=True,
                    )
                    send_button = gr.Button(
                        "Send", variant="primary", scale=1, min_width=90, elem_id="send-button"
                    )
                suggestions_label = gr.Markdown(
                    "You could also ask:", visible=False, elem_id="suggestions-label"
                )
                with gr.Row():
                    suggestion_buttons = [
                        gr.Button(visible=False, size="sm", elem_id=f"suggestion-{k}")
                        for k in range(MAX_SUGGESTIONS)
                    ]
                with gr.Row(equal_height=True):
                    audience_used = gr.Markdown("", elem_id="audience-used")
                    new_button = gr.Button(
                        "New conversation",
                        size="sm",
                        variant="secondary",
                        scale=0,
                        min_width=160,
                        elem_id="new-conversation",
                    )
            with gr.Column(scale=2, min_width=300):
                sources_panel = gr.HTML(SOURCES_PLACEHOLDER, elem_id="sources-panel")

        outputs = [
            question_box,
            chatbot,
            chat_state,
            history_state,
            sources_panel,
            disclaimer,
            audience_used,
            banner,
            suggestions_label,
            *suggestion_buttons,
        ]

        def respond(message, audience, chat, history):
            """One turn: show the question, answer it, render the answer."""
            chat = list(chat or [])
            history = list(history or [])
            text = message if isinstance(message, str) else ""
            audience = audience if audience in AUDIENCES else "auto"
            shown = chat + ([{"role": "user", "content": _preview(text)}] if text.strip() else [])
            pending = {"role": "assistant", "content": SEARCHING}
            yield {question_box: "", chatbot: [*shown, pending]}
            try:
                final = None
                for kind, payload in _answer_events(assistant, text, audience, history):
                    if kind == "draft":
                        draft = {
                            "role": "assistant",
                            "content": payload or "…",
                            "metadata": {"title": DRAFTING, "status": "pending"},
                        }
                        yield {chatbot: [*shown, draft]}
                    else:
                        final = payload
            except ValueError as exc:
                chat = [*shown, {"role": "assistant", "content": f"⚠️ {exc}"}]
                yield {question_box: text, chatbot: chat, chat_state: chat}
                return
            except Exception:
                log.exception("answering failed")
                chat = [*shown, {"role": "assistant", "content": f"⚠️ {GENERIC_ERROR}"}]
                yield {question_box: text, chatbot: chat, chat_state: chat}
                return
            chat = [*shown, {"role": "assistant", "content": render_message(final)}]
            history = [
                *history,
                {"role": "user", "content": final.get("question") or text.strip()},
                {"role": "assistant", "content": final.get("answer") or ""},
            ][-MAX_HISTORY_MESSAGES:]
            suggestions = [s for s in final.get("suggestions") or [] if s][:MAX_SUGGESTIONS]
            emergency = final.get("status") == "emergency"
            update = {
                chatbot: chat,
                chat_state: chat,
                history_state: history,
                sources_panel: render_sources(final),
                disclaimer: gr.update(
                    value=final.get("disclaimer") or "", visible=bool(final.get("disclaimer"))
                ),
                audience_used: render_audience(final),
                banner: gr.update(
                    value=render_banner(final) if emergency else "", visible=emergency
                ),
                suggestions_label: gr.update(visible=bool(suggestions)),
            }
            for k, button in enumerate(suggestion_buttons):
                label = suggestions[k] if k < len(suggestions) else ""
                update[button] = gr.update(value=label or "…", visible=bool(label))
            yield update

        def reset():
            return {
                question_box: "",
                chatbot: [],
                chat_state: [],
                history_state: [],
                sources_panel: SOURCES_PLACEHOLDER,
                disclaimer: gr.update(value="", visible=False),
                audience_used: "",
                banner: gr.update(value="", visible=False),
                suggestions_label: gr.update(visible=False),
                **{b: gr.update(visible=False) for b in suggestion_buttons},
            }

        common = {
            "outputs": outputs,
            "show_progress": "minimal",
            "show_progress_on": [chatbot],
            "concurrency_id": "assistant",
            "concurrency_limit": concurrency_limit,
        }
        asked = gr.on(
            [question_box.submit, send_button.click],
            respond,
            inputs=[question_box, audience_radio, chat_state, history_state],
            api_name="chat",
            **common,
        )

        def respond_to_suggestion(label, audience, chat, history):
            """A clicked suggestion is asked as is; whatever is typed in the box stays there."""
            for update in respond(label, audience, chat, history):
                update.pop(question_box, None)
                yield update

        clicks = [
            button.click(
                respond_to_suggestion,
                inputs=[button, audience_radio, chat_state, history_state],
                api_visibility="private",
                **common,
            )
            for button in suggestion_buttons
        ]
        new_button.click(
            reset, outputs=outputs, cancels=[asked, *clicks], queue=False, api_name="new"
        )
        # The chat's own trash icon clears everything too, not just what is on screen.
        chatbot.clear(reset, outputs=outputs, queue=False, api_visibility="private")
        gr.api(
            api_ask,
            api_name="ask",
            concurrency_id="assistant",
            concurrency_limit=concurrency_limit,
        )
    return app


# --- serving ----------------------------------------------------------------------------------


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """``"user:password"`` → ``(user, password)``; None or "" → no login."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("auth must look like 'user:password'")
    return user, password


def launch(
    app: gr.Blocks,
    host: str | None = None,
    port: int | None = None,
    auth: str | tuple[str, str] | None = None,
    **kwargs,
):
    """Serve ``app`` on ``host:port`` (default 127.0.0.1:7860); never a public share link.

    Extra keyword arguments go to ``Blocks.launch`` (e.g. ``prevent_thread_lock=True``).
    Returns what ``Blocks.launch`` returns.
    """
    host = host or DEFAULT_HOST
    port = int(port or DEFAULT_PORT)
    creds = parse_auth(auth) if isinstance(auth, str) or auth is None else auth
    if creds is None and host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: serving on {host} without a login; pass --auth user:password",
            file=sys.stderr,
        )
    kwargs.pop("share", None)
    settings = {
        "css": CSS,
        "theme": theme(),
        "footer_links": ["api"],
        "ssr_mode": False,
        "mcp_server": False,
        "show_error": False,
        "inbrowser": False,
        **kwargs,
    }
    return app.launch(server_name=host, server_port=port, auth=creds, share=False, **settings)


def _setting(args, name: str, env: str):
    value = getattr(args, name, None) if args is not None else None
    return value if value not in (None, "") else os.environ.get(env) or None


def main(args=None) -> int:
    """``assistant serve``: load the assistant (ingesting on first start), then serve the UI."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    host = _setting(args, "host", "ASSISTANT_UI_HOST") or DEFAULT_HOST
    port = _setting(args, "port", "ASSISTANT_UI_PORT") or DEFAULT_PORT
    auth = _setting(args, "auth", "ASSISTANT_UI_AUTH")
    try:
        if not str(port).isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"port must be a number from 1 to 65535, not {port!r}")
        port = int(port)
        parse_auth(auth)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from assistant import Assistant
    from assistant.corpus import CorpusError
    from assistant.rules import RulesError

    print("Loading the guideline index (first start ingests the corpus)…", flush=True)
    overrides = {
        k: v
        for k in ("index_dir", "corpus_dir")
        if (v := getattr(args, k, None) if args is not None else None)
    }
    try:
        bot = Assistant.load(**overrides)
    except (CorpusError, RulesError, ValueError) as exc:  # bad corpus, rules or settings
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # e.g. a missing optional extra or an unreachable Chroma server
        print(f"error: could not start the assistant: {exc}", file=sys.stderr)
        return 1
    print(f"Starting the chat UI on http://{host}:{port} (Ctrl-C to stop)…", flush=True)
    launch(create_app(bot), host, port, auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())

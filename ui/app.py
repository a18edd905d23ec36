"""The chat page: a Gradio front end over :class:`assistant.Assistant`.

The UI holds no business logic: it calls ``assistant.ask(...)`` (or ``ask_stream`` when a
backend offers it) and renders ``Answer.to_dict()`` with :mod:`ui.render`.

``create_app(assistant)`` lays out the page and wires it to :class:`ui.handlers.Handlers`;
:mod:`ui.serve` serves it.
"""

from __future__ import annotations

import os

import gradio as gr

from .handlers import AUDIENCE_CHOICES, MAX_SUGGESTIONS, Handlers, Page
from .render import SOURCES_PLACEHOLDER

# The copy and download buttons work in the browser: nothing is stored on the server.
COPY_JS = """async (markdown) => {
  try {
    await navigator.clipboard.writeText(markdown);
  } catch (error) {  // no clipboard API (plain http away from localhost): the old way
    const area = Object.assign(document.createElement('textarea'), {value: markdown});
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  window.alsAnnounce('Copied the answer, its sources and the disclaimer as Markdown.');
}"""
DOWNLOAD_JS = """(markdown) => {
  const url = URL.createObjectURL(new Blob([markdown], {type: 'text/markdown;charset=utf-8'}));
  const link = Object.assign(document.createElement('a'), {
    href: url, download: `als-conversation-${new Date().toISOString().slice(0, 10)}.md`,
  });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  window.alsAnnounce('Saved the conversation as a Markdown file.');
}"""
# "Back to the answer" in a citation's context view: close it and return to the conversation.
SOURCES_JS = """element.addEventListener('click', (event) => {
  const back = event.target.closest('.back-to-answer');
  if (!back) return;
  const view = back.closest('details');
  if (view) view.open = false;
  const log = document.querySelector('#chatbot [role="log"]');
  if (log) { log.setAttribute('tabindex', '-1'); log.focus(); }
});"""
STATUS_JS = "element.setAttribute('role', 'status'); element.setAttribute('aria-live', 'polite');"

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


def build_page() -> Page:
    """Lay out the components (inside an open ``gr.Blocks``)."""
    history_state = gr.State([])
    chat_state = gr.State([])
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
                allow_tags=False,  # no custom tags: nothing in a message becomes HTML
            )
            banner = gr.HTML(visible=False, elem_id="emergency-banner")
            status = gr.HTML("", elem_id="answer-status", js_on_load=STATUS_JS)
            disclaimer = gr.Markdown(visible=False, elem_id="disclaimer")
            with gr.Row(equal_height=True):
                question_box = gr.Textbox(
                    label="Your question",
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
            with gr.Row(elem_id="suggestions"):
                suggestion_buttons = [
                    gr.Button(visible=False, size="sm", elem_id=f"suggestion-{k}")
                    for k in range(MAX_SUGGESTIONS)
                ]
            audience_used = gr.Markdown("", elem_id="audience-used")
            with gr.Row(elem_id="answer-actions"):
                copy_button = gr.Button(
                    "Copy answer (Markdown)",
                    size="sm",
                    variant="secondary",
                    scale=0,
                    min_width=160,
                    visible=False,
                    elem_id="copy-answer",
                )
                download_button = gr.Button(
                    "Download conversation",
                    size="sm",
                    variant="secondary",
                    scale=0,
                    min_width=160,
                    visible=False,
                    elem_id="download-conversation",
                )
                new_button = gr.Button(
                    "New conversation",
                    size="sm",
                    variant="secondary",
                    scale=0,
                    min_width=160,
                    elem_id="new-conversation",
                )
        with gr.Column(scale=2, min_width=300):
            sources_panel = gr.HTML(
                SOURCES_PLACEHOLDER, elem_id="sources-panel", js_on_load=SOURCES_JS
            )
    answer_markdown = gr.Textbox(visible=False, elem_id="answer-markdown")
    conversation_markdown = gr.Textbox(visible=False, elem_id="conversation-markdown")
    return Page(
        audience_radio=audience_radio,
        chatbot=chatbot,
        banner=banner,
        disclaimer=disclaimer,
        question_box=question_box,
        send_button=send_button,
        suggestions_label=suggestions_label,
        suggestion_buttons=suggestion_buttons,
        audience_used=audience_used,
        new_button=new_button,
        sources_panel=sources_panel,
        status=status,
        copy_button=copy_button,
        download_button=download_button,
        answer_markdown=answer_markdown,
        conversation_markdown=conversation_markdown,
        history_state=history_state,
        chat_state=chat_state,
        turns_state=gr.State([]),
    )


def create_app(assistant, *, concurrency_limit: int | None = None) -> gr.Blocks:
    """Build the chat page for ``assistant`` (anything with ``ask(question, audience, history)``).

    ``concurrency_limit`` bounds how many questions are answered at once across all sessions
    (default: ``ASSISTANT_UI_CONCURRENCY`` or 1; the pipeline is CPU-bound).
    """
    if concurrency_limit is None:
        concurrency_limit = int(os.environ.get("ASSISTANT_UI_CONCURRENCY") or 1)
    with gr.Blocks(title="ALS guideline assistant", analytics_enabled=False) as app:
        page = build_page()
        handlers = Handlers(assistant, page)
        common = {
            "outputs": page.outputs,
            "show_progress": "minimal",
            "show_progress_on": [page.chatbot],
            "concurrency_id": "assistant",
            "concurrency_limit": concurrency_limit,
        }
        state = [page.audience_radio, page.chat_state, page.history_state, page.turns_state]
        asked = gr.on(
            [page.question_box.submit, page.send_button.click],
            handlers.respond,
            inputs=[page.question_box, *state],
            api_name="chat",
            **common,
        )
        clicks = [
            button.click(
                handlers.respond_to_suggestion,
                inputs=[button, *state],
                api_visibility="private",
                **common,
            )
            for button in page.suggestion_buttons
        ]
        page.new_button.click(
            handlers.reset,
            outputs=page.outputs,
            cancels=[asked, *clicks],
            queue=False,
            api_name="new",
        )
        page.copy_button.click(
            None, inputs=[page.answer_markdown], js=COPY_JS, api_visibility="private"
        )
        page.download_button.click(
            None, inputs=[page.conversation_markdown], js=DOWNLOAD_JS, api_visibility="private"
        )
        # The chat's own trash icon clears everything too, not just what is on screen.
        page.chatbot.clear(
            handlers.reset, outputs=page.outputs, queue=False, api_visibility="private"
        )
        gr.api(
            handlers.api_ask,
            api_name="ask",
            concurrency_id="assistant",
            concurrency_limit=concurrency_limit,
        )
    return app

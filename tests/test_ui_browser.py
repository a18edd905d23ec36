"""The chat page in a real headless Chromium (Debian's /usr/bin/chromium; never downloaded).

Screenshots of each step go to artifacts/screenshots/ (CI artifacts, git-ignored). The
accessibility audit injects axe-core, installed from the npm registry into tests/ui_assets/.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

try:
    import ui_conftest_helpers as h
except ImportError:  # tests/ became a package
    from tests import ui_conftest_helpers as h

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
ANSWER_TIMEOUT_MS = 30_000
SEARCHING = "Searching the guidelines…"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium, or `make browser`)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the browser tests")
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def opened(browser, url: str, **context_options):
    """A fresh page on ``url``; every request that would leave the machine is blocked."""
    context = browser.new_context(
        **{"viewport": {"width": 1366, "height": 1000}, **context_options}
    )
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    outside: list[str] = []

    def only_loopback(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", only_loopback)
    page.goto(url)
    page.locator("#question-box textarea").wait_for()
    page.outside_requests = outside
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser, ui_server):
    with opened(browser, ui_server.url) as page:
        yield page


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def bot_messages(page):
    return page.locator('#chatbot [data-testid="bot"]')


def user_messages(page):
    return page.locator('#chatbot [data-testid="user"]')


def wait_for_reply(page, before: int) -> None:
    """Wait until a new assistant message has arrived and is no longer a placeholder."""
    page.wait_for_function(
        """([before, searching]) => {
            const chat = document.querySelector('#chatbot');
            const bots = chat ? chat.querySelectorAll('[data-testid="bot"]') : [];
            return bots.length > before && !chat.innerText.includes(searching);
        }""",
        arg=[before, SEARCHING],
        timeout=ANSWER_TIMEOUT_MS,
    )


def ask(page, question: str) -> None:
    before = bot_messages(page).count()
    box = page.locator("#question-box textarea")
    box.fill(question)
    box.press("Enter")
    wait_for_reply(page, before)


def choose(page, label: str) -> None:
    page.locator("#audience-radio").get_by_text(label, exact=True).click()


def no_traceback(page) -> None:
    assert "Traceback" not in page.content()
    assert "Traceback" not in page.locator("body").inner_text()


def test_conversation_in_the_browser(page, ui_server):
    from playwright.sync_api import expect

    expect(page.locator("h1")).to_contain_text("ALS guideline assistant")
    expect(page.locator("#audience-radio")).to_contain_text("Which best describes you?")
    shot(page, "01-start")

    # 1. A clinician asks for the riluzole dose.
    choose(page, "Clinician")
    ask(page, h.RILUZOLE_QUESTION)
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text(h.RILUZOLE_FACT)
    cited = h.riluzole_citation(ui_server.bot)
    sources = page.locator("#sources-panel")
    expect(sources).to_contain_text(cited["title"])
    expect(sources).to_contain_text(cited["section"])
    expect(sources).to_contain_text("Verbatim threshold facts")
    expect(sources.locator("blockquote").first).to_be_visible()
    disclaimer = page.locator("#disclaimer")
    expect(disclaimer).to_be_visible()
    expect(disclaimer).to_contain_text(h.CLINICIAN_DISCLAIMER)
    expect(page.locator("#audience-used")).to_contain_text("Answering for: clinician")
    shot(page, "02-clinician-answer")

    # 2. The audience changes mid-conversation; a follow-up gets the patient wording.
    choose(page, "Patient or caregiver")
    ask(page, "Can I take it with food?")
    expect(disclaimer).to_contain_text(h.PATIENT_DISCLAIMER)
    expect(page.locator("#audience-used")).to_contain_text("Answering for: patient")
    expect(user_messages(page)).to_have_count(2)
    shot(page, "03-patient-follow-up")

    # 3. A suggested follow-up question is asked by clicking it.
    suggestion = page.locator("#suggestion-0")
    expect(suggestion).to_be_visible()
    label = suggestion.inner_text().strip()
    assert label
    before = bot_messages(page).count()
    suggestion.click()
    wait_for_reply(page, before)
    expect(user_messages(page).last).to_contain_text(label)
    expect(bot_messages(page)).to_have_count(before + 1)
    shot(page, "04-suggestion")

    # 4. An emergency is answered with a banner that cannot be missed.
    ask(page, "My husband is choking right now")
    banner = page.locator("#emergency-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("emergency number")
    shot(page, "05-emergency")

    # 5. An out-of-scope question is refused with the reason and what can be asked instead.
    ask(page, "What is the capital of France?")
    expect(bot_messages(page).last).to_contain_text("Why I can't answer this one")
    expect(bot_messages(page).last).to_contain_text("You can ask, for example")
    expect(banner).to_be_hidden()
    expect(page.locator("#suggestion-0")).to_be_visible()
    shot(page, "06-refused")

    # 6. Empty and overlong input get a friendly message, never a traceback.
    before = bot_messages(page).count()
    page.locator("#send-button").click()
    wait_for_reply(page, before)
    expect(bot_messages(page).last).to_contain_text("please type a question")
    no_traceback(page)
    shot(page, "07-empty-question")

    ask(page, ("riluzole " * 334)[:2995] + "dose?")  # 3,000 characters
    expect(bot_messages(page).last).to_contain_text("too long")
    expect(bot_messages(page).last).to_contain_text("shorter question")
    no_traceback(page)
    shot(page, "08-too-long")

    # 7. A new conversation clears the chat, the sources and the banner.
    page.locator("#new-conversation").click()
    expect(bot_messages(page)).to_have_count(0)
    expect(user_messages(page)).to_have_count(0)
    expect(banner).to_be_hidden()
    expect(sources).not_to_contain_text(cited["title"])
    expect(page.locator("#question-box textarea")).to_have_value("")
    shot(page, "09-new-conversation")

    assert page.outside_requests == [], page.outside_requests


@pytest.fixture(scope="module")
def image_server():
    """A loopback HTTP server that records every request it gets: (base URL, paths)."""
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            paths.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((h.HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{h.HOST}:{server.server_address[1]}", paths
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def echo_server():
    """The page over a fake assistant that echoes each question in its answer and reason."""
    server = h.start(h.EchoBot())
    yield server
    server.app.close()


@pytest.mark.parametrize("backend", ["ui_server", "echo_server"])
def test_typed_markup_is_shown_as_text_and_never_fetched(request, browser, image_server, backend):
    from playwright.sync_api import expect

    server = request.getfixturevalue(backend)
    base, served = image_server
    typed = [
        f"![x]({base}/a.png)",
        f'<img src="{base}/b.png">',
        f"[a link]({base}/c) <{base}/d> {base}/e www.example.invalid",
    ]
    with opened(browser, server.url) as page:
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url) if r.url.startswith(base) else None)
        for text in typed:
            ask(page, text)
        users = user_messages(page)
        for k, text in enumerate(typed):
            expect(users.nth(k)).to_have_text(text)
        if backend == "echo_server":  # the answer and the refusal reason repeat the question
            for k, text in enumerate(typed):
                expect(bot_messages(page).nth(k)).to_contain_text(f"You asked: {text}")
        chat = page.locator("#chatbot")
        expect(chat.locator("img")).to_have_count(0)
        expect(chat.locator(f'a[href^="{base}"]')).to_have_count(0)
        page.wait_for_timeout(500)  # time for a late image request
        shot(page, f"10-typed-markup-{backend.removesuffix('_server')}")
        assert requested == [], requested
        assert served == [], served
        # The control: a request the page does make is seen by both counts.
        page.evaluate("url => fetch(url, {mode: 'no-cors'}).catch(() => null)", f"{base}/probe")
        assert requested == [f"{base}/probe"], requested
        assert served == ["/probe"], served
        served.clear()


# --- accessibility: WCAG 2.1 A/AA, the keyboard alone, zoom and a phone ------------------------


@pytest.fixture(scope="module")
def axe():
    if not h.AXE.is_file():
        message = f"axe-core not installed at {h.AXE} (run `make axe`)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the accessibility audit")
        pytest.skip(message)
    return h.axe_violations


def audited(page, axe, name: str) -> None:
    violations = axe(page)
    assert violations == [], f"WCAG 2.1 A/AA violations {name}:\n{h.describe(violations)}"


def test_the_page_passes_a_wcag_audit_at_every_step(page, axe):
    from playwright.sync_api import expect

    audited(page, axe, "on the empty page")
    choose(page, "Clinician")
    ask(page, h.RILUZOLE_QUESTION)
    expect(page.locator("#sources-panel details.in-context").first).to_be_visible()
    page.locator("#sources-panel summary").first.click()  # one citation open in context
    audited(page, axe, "after a clinician answer")
    choose(page, "Patient or caregiver")
    ask(page, "What are the first signs of ALS?")
    expect(page.locator("#disclaimer")).to_contain_text(h.PATIENT_DISCLAIMER)
    audited(page, axe, "after a patient answer")
    ask(page, "What is the capital of France?")
    expect(bot_messages(page).last).to_contain_text("Why I can't answer this one")
    audited(page, axe, "after a refusal")


FOCUSED = """() => {
    const e = document.activeElement;
    const owner = e && e.closest('[id]');
    const style = e ? getComputedStyle(e) : null;
    return e && {
        key: `${owner ? owner.id : ''}|${e.tagName}|${(e.value || e.innerText || '').trim()}`,
        outline: style.outlineStyle,
        width: parseFloat(style.outlineWidth),
    };
}"""


def tab_stops(page, count: int, back: bool = False) -> list[str]:
    """Press Tab ``count`` times; each focused control's key. Every one must show its focus."""
    keys = []
    for _ in range(count):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        focused = page.evaluate(FOCUSED)
        if focused["key"].startswith("|BODY|"):
            continue  # between the end of the page and its start
        assert focused["outline"] != "none" and focused["width"] >= 2, focused
        keys.append(focused["key"])
    return keys


def in_order(stops: list[str], wanted: list[str]) -> bool:
    """Each of ``wanted`` is the start of a stop, in this order."""
    it = iter(stops)
    return all(any(stop.startswith(w) for stop in it) for w in wanted)


def test_the_keyboard_alone_reaches_every_control_in_order(browser, ui_server, axe):
    from playwright.sync_api import expect

    with opened(browser, ui_server.url, permissions=["clipboard-read", "clipboard-write"]) as page:
        # Names a screen reader announces.
        expect(page.get_by_role("radiogroup", name="Which best describes you?")).to_be_visible()
        expect(page.get_by_role("textbox", name="Your question")).to_be_focused()  # on load
        log = page.get_by_role("log", name="Conversation: your questions and the answers")
        expect(log).to_have_count(1)
        expect(page.get_by_role("region", name="Sources", exact=True)).to_be_visible()
        status = page.locator('#answer-status [role="status"][aria-live="polite"]')
        expect(status).to_have_count(1)

        # Back from the question box to the audience choice; Space chooses.
        assert tab_stops(page, 3, back=True) == [
            "audience-radio|INPUT|auto",
            "audience-radio|INPUT|patient",
            "audience-radio|INPUT|clinician",
        ]
        page.keyboard.press("Space")
        expect(page.locator("#audience-radio input[value=clinician]")).to_be_checked()
        tab_stops(page, 2)
        page.keyboard.press("Tab")
        expect(page.locator("#question-box textarea")).to_be_focused()
        page.keyboard.type(h.RILUZOLE_QUESTION)
        before = bot_messages(page).count()
        page.keyboard.press("Enter")  # Enter sends
        wait_for_reply(page, before)
        expect(status).to_contain_text("Answer ready, for clinicians")
        expect(page.get_by_role("group", name="Suggested questions")).to_be_visible()
        shot(page, "11-keyboard-answer")

        stops = tab_stops(page, 30)
        wanted = [
            "question-box|TEXTAREA",
            "send-button|BUTTON|Send",
            "suggestion-0|BUTTON",
            "suggestion-1|BUTTON",
            "copy-answer|BUTTON",
            "download-conversation|BUTTON",
            "new-conversation|BUTTON",
            "context-1|SUMMARY|Show [1] where it stands in the document",
            "context-2|SUMMARY",
        ]
        assert in_order(stops + stops, wanted), stops

        # A citation opens in its document, the quote highlighted; a button leads back.
        cited = h.riluzole_citation(ui_server.bot)
        summary = page.locator(f"#context-{cited['n']} summary")
        summary.focus()
        page.keyboard.press("Enter")
        view = page.get_by_role("region", name=f"[{cited['n']}] in its document")
        expect(view).to_be_visible()
        expect(view.locator("mark")).to_have_text(cited["quote"])
        expect(view).to_contain_text(cited["section"].split(" › ")[-1])
        expect(view).to_contain_text(f"Last updated {cited['last_updated']}")
        shot(page, "12-citation-in-context")
        page.keyboard.press("Tab")
        expect(view.get_by_role("button", name="Back to the answer")).to_be_focused()
        page.keyboard.press("Enter")
        expect(view).to_be_hidden()
        expect(log).to_be_focused()

        # Copy the answer, then save the conversation, from the keyboard.
        page.locator("#copy-answer").focus()
        page.keyboard.press("Enter")
        expect(status).to_contain_text("Copied the answer")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied.startswith(f"### Question: {h.RILUZOLE_QUESTION}")
        assert "**Sources**" in copied and h.CLINICIAN_DISCLAIMER in copied
        assert cited["quote"] in copied
        page.locator("#download-conversation").focus()
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        saved = Path(download.value.path()).read_text(encoding="utf-8")
        assert download.value.suggested_filename.endswith(".md")
        assert f"## 1. {h.RILUZOLE_QUESTION}" in saved and "## Disclaimer" in saved
        assert page.outside_requests == [], page.outside_requests


@pytest.mark.parametrize(
    ("name", "options"),
    [
        # A 1366 × 1000 window at 200% zoom lays out like 683 × 500 CSS pixels.
        ("13-zoom-200", {"viewport": {"width": 683, "height": 500}, "device_scale_factor": 2}),
        (
            "14-phone-390",
            {
                "viewport": {"width": 390, "height": 844},
                "device_scale_factor": 3,
                "is_mobile": True,
                "has_touch": True,
            },
        ),
    ],
)
def test_the_page_stays_usable_zoomed_and_on_a_phone(browser, ui_server, axe, name, options):
    from playwright.sync_api import expect

    with opened(browser, ui_server.url, **options) as page:
        choose(page, "Patient or caregiver")
        ask(page, h.RILUZOLE_QUESTION)
        expect(page.locator("#sources-panel .source").first).to_be_visible()
        width = page.evaluate("() => window.innerWidth")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        for selector in (
            "#audience-radio",
            "#question-box textarea",
            "#send-button",
            "#suggestion-0",
            "#copy-answer",
            "#new-conversation",
            "#sources-panel summary",
        ):
            control = page.locator(selector).first
            control.scroll_into_view_if_needed()
            expect(control).to_be_visible()
            box = control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (selector, box)
        audited(page, axe, f"at {name}")
        page.evaluate("() => window.scrollTo(0, 0)")
        shot(page, name)

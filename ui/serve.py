"""Serving the chat page: ``launch(app, ...)``, and ``main(args)`` for ``assistant serve``."""

from __future__ import annotations

import logging
import os
import stat
import sys
from importlib import resources
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from .security import Guard, LoginThrottle, LoginThrottleSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860

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
    """A calm blue theme with system fonts only (nothing fetched from the internet).

    Text and buttons meet WCAG AA contrast (4.5:1): the default's subdued grey and its
    primary blue are too light on white.
    """
    return gr.themes.Default(primary_hue="blue", font=SYSTEM_FONTS, font_mono=MONO_FONTS).set(
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_300",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover_dark="*primary_800",
        button_primary_text_color="white",
        button_primary_text_color_dark="white",
    )


def load_css() -> str:
    """The page's style sheet, ``ui/style.css`` (package data)."""
    return resources.files("ui").joinpath("style.css").read_text(encoding="utf-8")


def load_js() -> str:
    """What the page runs on load, ``ui/page.js``: accessible names and the live region."""
    return resources.files("ui").joinpath("page.js").read_text(encoding="utf-8")


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """``"user:password"`` → ``(user, password)``; None or "" → no login."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ValueError("auth must look like 'user:password'")
    return user, password


def read_auth_file(path: str | os.PathLike) -> str:
    """The ``user:password`` line of an auth file (surrounding blank lines and spaces dropped)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except OSError as exc:
        raise ValueError(f"cannot read the auth file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"the auth file {path} is not UTF-8 text") from exc
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise ValueError(f"the auth file {path} must hold one line, 'user:password'")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"warning: {path} can be read by other users; chmod 600 it", file=sys.stderr)
    return lines[0]


def resolve_auth(args=None) -> str | None:
    """The login: ``--auth`` or ``--auth-file``, else ``ASSISTANT_UI_AUTH`` or
    ``ASSISTANT_UI_AUTH_FILE``; two at the same level are an error."""
    for text, file, names in (
        (_arg(args, "auth"), _arg(args, "auth_file"), "--auth and --auth-file"),
        (
            os.environ.get("ASSISTANT_UI_AUTH") or None,
            os.environ.get("ASSISTANT_UI_AUTH_FILE") or None,
            "ASSISTANT_UI_AUTH and ASSISTANT_UI_AUTH_FILE",
        ),
    ):
        if text and file:
            raise ValueError(f"give one of {names}, not both")
        if text or file:
            return text or read_auth_file(file)
    return None


def launch(
    app: gr.Blocks,
    host: str | None = None,
    port: int | None = None,
    auth: str | tuple[str, str] | None = None,
    *,
    login_throttle: LoginThrottleSettings | None = None,
    **kwargs,
):
    """Serve ``app`` on ``host:port`` (default 127.0.0.1:7860); never a public share link.

    The server refuses file uploads, lets the page load images only from itself, and with
    ``auth`` limits failed logins per client (``login_throttle``, default from the environment).
    Extra keyword arguments go to ``Blocks.launch`` (e.g. ``prevent_thread_lock=True``).
    Returns what ``Blocks.launch`` returns.
    """
    host = host or DEFAULT_HOST
    port = int(port or DEFAULT_PORT)
    creds = parse_auth(auth) if isinstance(auth, str) or auth is None else auth
    if creds is None and host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: serving on {host} without a login; pass --auth-file PATH (user:password)",
            file=sys.stderr,
        )
    throttle = None
    if creds is not None:
        throttle = LoginThrottle(login_throttle or LoginThrottleSettings.from_env())
    app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
    app_kwargs["middleware"] = [
        *app_kwargs.get("middleware", []),
        Middleware(Guard, throttle=throttle),
    ]
    kwargs.pop("share", None)
    settings = {
        "css": load_css(),
        "js": load_js(),
        "theme": theme(),
        "footer_links": ["api"],
        "ssr_mode": False,
        "mcp_server": False,
        "show_error": False,
        "inbrowser": False,
        **kwargs,
    }
    return app.launch(
        server_name=host,
        server_port=port,
        auth=creds,
        share=False,
        app_kwargs=app_kwargs,
        **settings,
    )


def _arg(args, name: str):
    value = getattr(args, name, None) if args is not None else None
    return value if value not in (None, "") else None


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
    if _arg(args, "auth"):
        print(
            "warning: --auth shows the password to anyone who can list processes (ps); "
            "prefer --auth-file or ASSISTANT_UI_AUTH_FILE",
            file=sys.stderr,
        )
    try:
        if not str(port).isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"port must be a number from 1 to 65535, not {port!r}")
        port = int(port)
        auth = resolve_auth(args)
        parse_auth(auth)
        throttle = LoginThrottleSettings.from_env()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from assistant import Assistant
    from assistant.corpus import CorpusError
    from assistant.rules import RulesError

    from .app import create_app

    print(
        "Loading the assistant (a first start also builds the index and prepares the suggested "
        "questions; `assistant ingest` builds the index showing its progress)…",
        flush=True,
    )
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
    launch(create_app(bot), host, port, auth, login_throttle=throttle)
    return 0


if __name__ == "__main__":
    sys.exit(main())

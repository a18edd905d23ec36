"""Serving the chat page: ``launch(app, ...)``, and ``main(args)`` for ``assistant serve``."""

from __future__ import annotations

import logging
import os
import sys
from importlib import resources

import gradio as gr

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
    """A calm blue theme with system fonts only (nothing fetched from the internet)."""
    return gr.themes.Default(primary_hue="blue", font=SYSTEM_FONTS, font_mono=MONO_FONTS)


def load_css() -> str:
    """The page's style sheet, ``ui/style.css`` (package data)."""
    return resources.files("ui").joinpath("style.css").read_text(encoding="utf-8")


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
        "css": load_css(),
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

    from .app import create_app

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

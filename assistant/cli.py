"""Command line: ``assistant ask|chat|ingest|eval|serve``. A thin layer over the public API."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

EXIT_BAD_INPUT = 2


def _load(args):
    from .pipeline import Assistant

    overrides = {}
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = args.index_dir
    if getattr(args, "corpus_dir", None):
        overrides["corpus_dir"] = args.corpus_dir
    return Assistant.load(**overrides)


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
    else:
        print(answer.to_text(), flush=True)
        if answer.suggestions:
            print("\nYou could also ask: " + " | ".join(answer.suggestions), flush=True)


def cmd_ask(args) -> int:
    bot = _load(args)
    try:
        answer = bot.ask(args.question, audience=args.audience)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _print_answer(answer, args.json)
    return 0


def cmd_chat(args) -> int:
    bot = _load(args)
    conv = bot.conversation(args.audience)
    interactive = sys.stdin.isatty() and not args.json
    if interactive:
        print("Ask a question about ALS (Ctrl-D to quit).", flush=True)
    status = 0
    stdin = sys.stdin.buffer
    while True:
        if interactive:
            print("> ", end="", flush=True)
        raw = stdin.readline()
        if not raw:
            break
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            line = None
        if line is not None and not line.strip():
            continue
        try:
            if line is None:
                raise ValueError("The question is not valid UTF-8 text.")
            answer = conv.ask(line)
        except ValueError as exc:
            status = EXIT_BAD_INPUT
            if args.json:
                print(json.dumps({"error": str(exc)}), flush=True)
            else:
                print(f"error: {exc}", file=sys.stderr, flush=True)
            continue
        _print_answer(answer, args.json)
        if not args.json:
            print(flush=True)
    return status


def cmd_ingest(args) -> int:
    from .config import Settings
    from .corpus import Corpus, CorpusError
    from .index import VectorIndex
    from .rules import Rules, RulesError

    settings = Settings.from_env(
        **{
            k: v
            for k, v in {"index_dir": args.index_dir, "corpus_dir": args.corpus_dir}.items()
            if v
        }
    )
    started = time.perf_counter()
    try:
        corpus = Corpus.load(settings.corpus_dir)
        Rules.load(settings.rules_dir).check_against(corpus.texts())
    except (CorpusError, RulesError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = VectorIndex(settings).sync(corpus)
    n = len(corpus.passages)
    print(
        f"ingested {len(corpus.documents)} documents, {n} passages: {report} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return 0


def cmd_eval(args) -> int:
    from .evaluation import main as eval_main

    return eval_main(args)


def cmd_serve(args) -> int:
    from ui.serve import main as serve_main

    return serve_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    audience = {"choices": ["auto", "clinician", "patient"], "default": "auto"}

    def common(p):
        p.add_argument("--index-dir", help="embedded Chroma folder (default: .index)")
        p.add_argument("--corpus-dir", help="corpus folder (default: corpus/)")

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--audience", **audience)
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation: each stdin line is a user turn")
    p.add_argument("--audience", **audience)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    common(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("ingest", help="bring the index in line with corpus/")
    common(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("eval", help="run the evaluation suite")
    p.add_argument("--baseline", help="fail when a metric falls below this baseline JSON")
    p.add_argument("--update-baseline", action="store_true", help="rewrite the baseline file")
    p.add_argument("--report", default="evals/report.json", help="where to write the JSON report")
    p.add_argument("--modes", default="keyword,dense,hybrid", help="retrieval modes to compare")
    p.add_argument("--rules-dir", help="rules folder to evaluate (default: the package's)")
    p.add_argument(
        "--tuning-only", action="store_true", help="run the tuning set alone (no extra sets)"
    )
    p.add_argument(
        "--composer",
        choices=["extractive", "fake-paraphrase", "local"],
        default="extractive",
        help="fake-paraphrase: a scripted model that rewords every passage (a guard stress "
        "test); local: the small CPU model of the [local] extra, every draft guarded",
    )
    common(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="start the chat UI")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 7860)")
    p.add_argument("--auth", default=None, help="require a login: 'user:password' (visible in ps)")
    p.add_argument(
        "--auth-file", default=None, help="require a login, 'user:password' read from this file"
    )
    common(p)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .corpus import CorpusError
    from .rules import RulesError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (CorpusError, RulesError, ValueError) as exc:  # bad corpus, rules or settings
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # a missing extra, an unreachable server: one line, no traceback
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        print(
            f"error: {type(exc).__name__}: {exc} (set ASSISTANT_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())

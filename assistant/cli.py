"""Command line: ``assistant ask|chat|ingest|eval|serve``. A thin layer over the public API."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import threading
import time

EXIT_BAD_INPUT = 2


def _warnings_to_stderr() -> logging.Handler:
    """The package's warnings (an empty or unsupported corpus file...) as one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    logging.getLogger("assistant").addHandler(handler)
    return handler


def _read_line(stdin, limit: int) -> bytes | None:
    """One line of at most ``limit`` bytes; the rest of a longer line is read and dropped, so
    an endless line never fills memory. ``None`` at the end of input."""
    raw = stdin.readline(limit)
    if not raw:
        return None
    if len(raw) == limit and not raw.endswith(b"\n"):
        while (rest := stdin.readline(limit)) and not rest.endswith(b"\n"):
            pass
    return raw


class IngestProgress:
    """How far an ingest is, on ``stream`` (stderr): a live bar with the rate and the time left
    on a terminal (tqdm, redrawn each second), plain log lines otherwise."""

    def __init__(self, stream=None, clock=time.perf_counter, warm_up=None):
        self.stream = stream or sys.stderr
        self.warm_up = warm_up  # loads the model before the count starts
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.clock = clock
        self.started = clock()
        self.bar = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def say(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def parsed(self, documents: int, passages: int) -> None:
        self.say(f"parsed {documents} documents: {passages} passages")

    def __call__(self, done: int, total: int) -> None:
        """``VectorIndex.sync``'s ``progress``: ``done`` of ``total`` new passages embedded."""
        if total == 0:
            self.say("index up to date: no new passages to embed")
            return
        if done == 0:
            self.say(
                f"building the index: embedding {total} new passages (once; later starts reuse it)"
            )
            if self.warm_up is not None:
                loading = self.clock()
                self.warm_up()
                self.say(f"loaded the embedding model ({self.clock() - loading:.1f} s)")
            self.started = self.clock()
            if self.tty:
                self._open_bar(total)
            return
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            if done >= total:
                self.close()
            return
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0.0
        self.say(
            f"embedded {done}/{total} passages ({100 * done // total}%, "
            f"{rate:.1f} passages/s, {left:.0f} s left)"
        )

    def _open_bar(self, total: int) -> None:
        from tqdm import tqdm

        size = shutil.get_terminal_size()  # 80 × 24 where a terminal reports no size
        self.bar = tqdm(
            total=total,
            desc="embedding",
            unit=" passages",
            file=self.stream,
            ncols=min(size.columns, 100),
            nrows=size.lines,
        )
        # One batch can take a while: keep the elapsed time moving between updates.
        self._ticker = threading.Thread(target=self._tick, args=(self.bar,), daemon=True)
        self._ticker.start()

    def _tick(self, bar) -> None:
        while not self._stop.wait(1.0):
            bar.refresh()

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        if self.bar is not None:
            self.bar.close()
            self.bar = None


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
    from .inputs import validate_question

    try:
        validate_question(args.question)  # bad input is refused before anything loads
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    bot = _load(args)
    try:
        answer = bot.ask(args.question, audience=args.audience)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _print_answer(answer, args.json)
    return 0


def cmd_chat(args) -> int:
    from .index import IndexProblem
    from .inputs import LIMITS

    bot = _load(args)
    conv = bot.conversation(args.audience)
    interactive = sys.stdin.isatty() and not args.json
    if interactive:
        print("Ask a question about ALS (Ctrl-D to quit).", flush=True)
    status = 0
    stdin = sys.stdin.buffer
    answered: list[dict] = []  # for --markdown
    while True:
        if interactive:
            print("> ", end="", flush=True)
        raw = _read_line(stdin, LIMITS.max_line_bytes)
        if raw is None:
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
            if len(raw) >= LIMITS.max_line_bytes:
                raise ValueError(
                    f"The question is too long (the limit is {LIMITS.max_question_chars} "
                    "characters). Please ask a shorter question."
                )
            answer = conv.ask(line)
        except (ValueError, IndexProblem) as exc:
            # Bad input, or an index that failed this turn: say so, keep the conversation.
            status = EXIT_BAD_INPUT if isinstance(exc, ValueError) else exc.exit_status
            if args.json:
                print(json.dumps({"error": str(exc)}), flush=True)
            else:
                print(f"error: {exc}", file=sys.stderr, flush=True)
            continue
        if args.markdown:
            answered.append(answer.to_dict())
            if not interactive:
                continue
        _print_answer(answer, args.json)
        if not args.json:
            print(flush=True)
    if args.markdown:
        from ui.export import conversation_markdown

        print(conversation_markdown(answered), end="", flush=True)
    return status


def cmd_ingest(args) -> int:
    from .config import Settings
    from .corpus import Corpus, CorpusError
    from .index import VectorIndex
    from .pipeline import Assistant
    from .rules import Rules, RulesError

    settings = Settings.from_env(
        **{
            k: v
            for k, v in {"index_dir": args.index_dir, "corpus_dir": args.corpus_dir}.items()
            if v
        }
    )
    started = time.perf_counter()
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the model's loading bar
    try:
        corpus = Corpus.load(settings.corpus_dir)
        rules = Rules.load(settings.rules_dir)
        rules.check_against(corpus.texts())
    except (CorpusError, RulesError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    wait = not args.no_wait
    n = len(corpus.passages)
    index = VectorIndex(settings, wait=wait)
    progress = IngestProgress(warm_up=lambda: index.embed(["warm up"]))
    progress.parsed(len(corpus.documents), n)
    try:
        report = index.sync(corpus, wait=wait, verify=args.verify, progress=progress)
    finally:
        progress.close()
    Assistant(settings, corpus, rules, index)  # builds the keyword index and suggestions beside it
    checked = "; every embedding readable" if args.verify else ""
    print(
        f"ingested {len(corpus.documents)} documents, {n} passages: {report}{checked} "
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
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON object per line")
    form.add_argument(
        "--markdown",
        action="store_true",
        help="at the end, the whole conversation as Markdown, with sources and disclaimer",
    )
    common(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("ingest", help="bring the index in line with corpus/")
    p.add_argument(
        "--verify",
        action="store_true",
        help="also check that every stored embedding is readable, and rebuild what is not",
    )
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="exit with status 2 if another process is writing the index, instead of waiting",
    )
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
    from .index import IndexProblem
    from .rules import RulesError

    args = build_parser().parse_args(argv)
    handler = None if args.command == "serve" else _warnings_to_stderr()  # serve logs its own
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except IndexProblem as exc:  # busy, damaged or unreachable: the message names the fix
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_status
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
    finally:
        if handler is not None:
            logging.getLogger("assistant").removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main())

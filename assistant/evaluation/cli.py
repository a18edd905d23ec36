"""``assistant eval``: run the tuning set and every extra set, report, and apply the gates."""

from __future__ import annotations

import sys
from pathlib import Path

from .cases import EVALS_DIR, TUNING, extra_sets, load_cases
from .gate import EXTRA_GATED, compare, compare_extra, read_baseline, write_baseline
from .report import drafts_line, kind_table, markdown, side_by_side, summary_line, write_report
from .runner import evaluate, evaluate_set

EXIT_BAD_INPUT = 2


def _shown(path: Path) -> str:
    """A set's baseline path as the repository names it."""
    return (
        str(path.relative_to(EVALS_DIR.parent))
        if path.is_relative_to(EVALS_DIR.parent)
        else str(path)
    )


def _composer(args):
    if getattr(args, "composer", None) != "fake-paraphrase":
        return None
    from ..llm import LLMComposer, load_prompts
    from .probes import ParaphrasingFakeModel

    return LLMComposer(ParaphrasingFakeModel(), load_prompts(), name="llm:fake-paraphrase")


def _load(args):
    from ..pipeline import Assistant

    overrides = {
        k: v
        for k, v in {
            "index_dir": args.index_dir,
            "corpus_dir": args.corpus_dir,
            "rules_dir": getattr(args, "rules_dir", None),
        }.items()
        if v
    }
    if getattr(args, "composer", None) == "local":  # built from settings, like any backend
        from ..config import Settings

        return Assistant.load(Settings.from_env(composer="local", **overrides))
    return Assistant.load(composer=_composer(args), **overrides)


def _print_results(report: dict, main_mode: str) -> None:
    tuning = report["modes"][main_mode]
    print(markdown(report))
    print("\n" + summary_line(tuning["metrics"]))
    print(drafts_line(tuning["metrics"]))
    for name, result in report["sets"].items():
        print(summary_line(result["metrics"], name))
        print(side_by_side(tuning["metrics"], name, result["metrics"]))
    print("\n" + kind_table(f"{TUNING} ({main_mode})", tuning["samples"]))
    for name, result in report["sets"].items():
        print("\n" + kind_table(f"{name} ({result['mode']})", result["samples"]))


def _gate(args, report: dict, main_mode: str, folders: dict[str, Path]) -> int:
    """Compare every set with its baseline; print what failed. 0 passed, 1 failed."""
    tuning = report["modes"][main_mode]
    baseline = read_baseline(Path(args.baseline))
    if baseline is None:
        raise ValueError(f"{args.baseline}: no such baseline (make baseline writes one)")
    problems = compare(tuning["metrics"], baseline)
    for name, result in report["sets"].items():
        path = folders[name] / "baseline.json"
        extra = read_baseline(path)
        if extra is None:  # every set is gated: a new set needs its baseline
            problems.append(f"{name}: no baseline at {_shown(path)} (make baseline writes one)")
            continue
        problems += [f"{name}: {p}" for p in compare_extra(result["metrics"], extra)]
    if not problems:
        print("evaluation gate passed")
        return 0
    print("\nEVALUATION GATE FAILED:", file=sys.stderr)
    for p in problems:
        print(f"  - {p}", file=sys.stderr)
    for cid, reasons in sorted(tuning["failures"].items()):
        print(f"  - case {cid}: {'; '.join(reasons)}", file=sys.stderr)
    if report["sets"] and args.report:
        print(f"  (per-case results of every set: {args.report})", file=sys.stderr)
    return 1


def main(args) -> int:
    """Print the tables and summaries, write the JSON report, apply or rewrite the baselines."""
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    try:  # bad case files: a clear message before any model loads
        folders = {} if getattr(args, "tuning_only", False) else extra_sets(EVALS_DIR)
        for path in (EVALS_DIR, *folders.values()):
            load_cases(path)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    bot = _load(args)
    report = evaluate(bot, modes, EVALS_DIR)
    report["sets"] = {name: evaluate_set(bot, path) for name, path in folders.items()}
    main_mode = "hybrid" if "hybrid" in modes else modes[-1]
    _print_results(report, main_mode)
    if args.report:
        write_report(Path(args.report), report)
    if args.baseline and args.update_baseline:
        write_baseline(Path(args.baseline), report["modes"][main_mode]["metrics"])
        print(f"baseline written to {args.baseline}")
        for name, result in report["sets"].items():
            path = folders[name] / "baseline.json"
            write_baseline(path, result["metrics"], EXTRA_GATED)
            print(f"{name} baseline written to {_shown(path)}")
        return 0
    if args.baseline:
        try:
            return _gate(args, report, main_mode, folders)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    return 0

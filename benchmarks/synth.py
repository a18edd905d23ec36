"""A synthetic corpus of any size, recombined from the seed documents, for the scale benchmark.

Each seed document is cut into its head (title line and page chrome), its sections (a heading
line, or a break of two blank lines where the page lost a heading, up to the next one) and its
tail (references and disclaimer). Synthetic document k takes seed ``k % 5`` as its template:
its head with the title "<title> (synthetic edition k)", a seeded random choice of at least half
of its sections in a shuffled order, one or two sections borrowed from another seed of the same
audience, then its tail. The sidecar is the seed's, with the new title and the names of the
untitled sections in their new order. Ids are ``syn<k>_<seed stem>``, so every document, and
every passage id (a hash of the document id, title, section and text), is distinct; and the
title is part of what is embedded, so no two passages embed the same text. The seeds themselves
come first (the rules name facts in them), then synthetic documents until the count is reached.

    python benchmarks/synth.py OUT_DIR --passages 50000
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.corpus import (  # noqa: E402  (the repository, not an installed copy)
    CORPUS_DIR,
    CorpusError,
    load_meta,
    parse_document,
)

_TAIL = re.compile(
    r"^(?:References|Professional Medical Disclaimer|ALS Medication|\s{2}1\.\s.*"
    r"|The above information is an educational aid.*)$"
)


@dataclass
class Block:
    lines: list[str]
    untitled: str | None  # the maintainer's name of a section the page lost the heading of


@dataclass
class Seed:
    stem: str
    meta: dict
    head: list[str]
    blocks: list[Block]
    tail: list[str]


def cut(stem: str, text: str, meta: dict) -> Seed:
    """A seed document as head, sections and tail (see the module docstring)."""
    doc = parse_document(stem, text, load_meta(CORPUS_DIR / f"{stem}.meta.yaml"))
    headings = {h[-1] for h in doc.headings}
    lines = text.splitlines()
    tail_at = next((i for i, ln in enumerate(lines) if i and _TAIL.match(ln)), len(lines))
    untitled = iter(meta.get("untitled_sections", []))
    starts: list[tuple[int, str | None]] = []
    blanks, prev_heading = 0, True  # the title line counts as a heading
    for i, ln in enumerate(lines[:tail_at]):
        if not ln.strip():
            blanks += 1
            continue
        if i and ln.strip() in headings and not prev_heading:
            starts.append((i, None))
        elif i and blanks >= 2 and ln.strip() not in headings:
            starts.append((i, next(untitled, None)))
        prev_heading, blanks = ln.strip() in headings or i == 0, 0
    if not starts:
        raise CorpusError(f"{stem}: no sections to recombine")
    bounds = [s for s, _ in starts] + [tail_at]
    blocks = [Block(lines[a:b], name) for (a, name), b in zip(starts, bounds[1:], strict=True)]
    return Seed(stem, meta, lines[: bounds[0]], blocks, lines[tail_at:])


def seeds(folder: Path = CORPUS_DIR) -> list[Seed]:
    out = []
    for path in sorted(folder.glob("*.txt")):
        meta = yaml.safe_load(path.with_name(path.stem + ".meta.yaml").read_text("utf-8"))
        out.append(cut(path.stem, path.read_text(encoding="utf-8"), meta))
    return out


def document(k: int, pool: list[Seed]) -> tuple[str, str, dict]:
    """Synthetic document ``k``: (id, text, sidecar)."""
    rng = random.Random(k)
    seed = pool[k % len(pool)]
    chosen = rng.sample(seed.blocks, rng.randint(max(1, len(seed.blocks) // 2), len(seed.blocks)))
    kin = [s for s in pool if s is not seed and s.meta["audience"] == seed.meta["audience"]]
    for other in rng.sample(kin, min(len(kin), rng.randint(1, 2))):
        chosen.insert(rng.randrange(len(chosen) + 1), rng.choice(other.blocks))
    title = f"{seed.meta['title']} (synthetic edition {k})"
    head = list(seed.head)
    if head and head[0].strip() == seed.meta["title"].strip():
        head[0] = title
    body: list[str] = []
    for b in chosen:
        lines = list(b.lines)
        while lines and not lines[-1].strip():
            lines.pop()
        # A lost heading is a break of two blank lines; a heading needs one.
        body += ["", "", *lines] if b.untitled else ["", *lines]
    text = "\n".join([*head, *body, "", "", *seed.tail]) + "\n"
    meta = {**seed.meta, "title": title}
    names = [b.untitled for b in chosen if b.untitled]
    if names or "untitled_sections" in meta:
        meta["untitled_sections"] = names
    return f"syn{k:05d}_{seed.stem}", text, meta


def build(out: Path, passages: int, folder: Path = CORPUS_DIR) -> tuple[int, int]:
    """Write documents to ``out`` until they hold at least ``passages`` passages.

    Returns (documents, passages)."""
    from assistant.corpus import DocMeta

    out.mkdir(parents=True, exist_ok=True)
    pool = seeds(folder)
    total = 0
    for path in sorted(folder.glob("*.txt")):  # the rules name facts in the seeds: keep them
        sidecar = path.with_name(path.stem + ".meta.yaml")
        shutil.copyfile(path, out / path.name)
        shutil.copyfile(sidecar, out / sidecar.name)
        total += len(
            parse_document(path.stem, path.read_text("utf-8"), load_meta(sidecar)).passages
        )
    k = 0
    while total < passages:
        doc_id, text, meta = document(k, pool)
        parsed = parse_document(doc_id, text, DocMeta.model_validate(meta))
        (out / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        (out / f"{doc_id}.meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), "utf-8")
        total += len(parsed.passages)
        k += 1
    return k + len(pool), total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--passages", type=int, default=50_000)
    args = parser.parse_args()
    docs, n = build(args.out, args.passages)
    print(f"{docs} documents, {n} passages in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

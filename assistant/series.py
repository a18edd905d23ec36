"""Series: a sentence that ends in a series of short items ("coordination among neurology,
lung care, ..., and palliative care"), read as its lead-in and items. A patient reads such a
sentence as a list (:mod:`assistant.render` shows it so; :mod:`assistant.selection` grades it
so)."""

from __future__ import annotations

import re

# The words that lead into a series ("... requiring coordination among", "tests include").
_LEAD = re.compile(
    r"^(?P<head>.*?\b(?:among|include|includes|including|such as)):?\s+(?P<rest>.+)$"
)
_ITEM_WORDS = 6  # an item longer than this is a clause, not an item of the series


def _top_level_split(text: str) -> list[str]:
    """``text`` split at its commas outside brackets (not a thousands separator, "1,000")."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")" and depth > 0
        digits = 0 < k < len(text) - 1 and text[k - 1].isdigit() and text[k + 1].isdigit()
        if ch == "," and not depth and not digits:
            parts.append(text[start:k])
            start = k + 1
    return [*parts, text[start:]]


def as_list(text: str) -> list[str] | None:
    """A sentence that ends in a series of four or more short items ("coordination among
    neurology, lung care, ..., and palliative care"), as its lead-in and items, the words as
    written; None when it has none (a series followed by more clause, items that are clauses).
    For a patient, a series read as a list is easier than one line."""
    m = _LEAD.match(text.rstrip(" .;"))
    if not m:
        return None
    items = [i.strip() for i in _top_level_split(m["rest"])]
    if len(items) < 3 or not all(items):
        return None
    last = re.match(r"^(?:and|or)\s+(.+)$", items[-1])
    if last:  # "..., and palliative care"
        items[-1] = last[1]
    else:  # "..., speech therapy and nutrition"
        pair = re.match(r"^(.+?)\s+(?:and|or)\s+([^()]+)$", items[-1])
        if not pair:
            return None
        items[-1:] = [pair[1], pair[2]]
    joined = re.compile(r"^(?:and|or|as|while|although|but|which|that)\b")
    if any(joined.search(i) for i in items[:-2]) or any(
        len(re.sub(r"\([^)]*\)", "", i).split()) > _ITEM_WORDS for i in items
    ):
        return None  # a clause, or a second series, inside: not one list
    return [f"{m['head']}:", *items] if len(items) >= 4 else None

"""How the operator CLIs print an answer: JSON for scripts, an aligned table of rows for people."""

from __future__ import annotations

import json
from typing import Any


def emit(body: Any, *, as_json: bool, empty: str = "none") -> int:
    """Print `body` (a list of same-keyed rows becomes a table; anything else, and --json, is JSON)."""
    if as_json or not isinstance(body, list):
        print(json.dumps(body, indent=2, ensure_ascii=False, default=str))
        return 0
    if not body:
        print(empty)
        return 0
    columns = list(body[0])
    cells = [[c.upper() for c in columns]] + [["-" if r[c] is None else str(r[c]) for c in columns] for r in body]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    return 0

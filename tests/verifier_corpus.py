"""The verifier's corpus: real captured answers, the ledger they make, and the replies checked against them.

Shared by tests/test_verifier.py and bench/verify_speed.py, so that the benchmark times the same
replies the tests hold correct.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from citation.verifier import Cited

FIXTURES = Path(__file__).parent / "fixtures"
ANSWERS = FIXTURES / "answers"
CORPUS = FIXTURES / "replies" / "corpus.yaml"
UNKNOWN = "tc_0123456789abcdef"  # well formed, in no ledger


@dataclass(frozen=True)
class Reply:
    name: str
    text: str  # ids substituted
    expect: list[str]
    note: str = ""


@cache
def answers() -> dict[str, Cited]:
    found = {}
    for path in sorted(ANSWERS.glob("*.json")):
        entry = json.loads(path.read_text())
        found[path.stem] = Cited(tool=entry["tool"], arguments=entry["arguments"], answer=entry["answer"])
    return found


def id_of(name: str) -> str:
    tool_call_id: str = answers()[name].answer["cite"]["tool_call_id"]
    return tool_call_id


@cache
def ledger() -> dict[str, Cited]:
    return {id_of(name): cited for name, cited in answers().items()}


class Lookup:
    """The caller's ledger as `verify` sees it, counting how it is asked."""

    def __init__(self, entries: Mapping[str, Cited] | None = None) -> None:
        self.entries = ledger() if entries is None else entries
        self.calls: list[list[str]] = []

    def __call__(self, ids: Sequence[str]) -> dict[str, Cited]:
        self.calls.append(list(ids))
        return {i: self.entries[i] for i in ids if i in self.entries}


def substitute(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return UNKNOWN if name == "unknown" else id_of(name)

    return re.sub(r"\{(\w+)\}", replace, text)


@cache
def replies() -> list[Reply]:
    entries: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text())
    return [Reply(e["name"], substitute(e["text"]), list(e["expect"]), e.get("note", "")) for e in entries]

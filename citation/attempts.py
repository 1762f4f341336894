"""The attempt log of one answer: where its numbers were looked for, in order, and what happened.

It becomes `cite.attempts` (and, as the distinct names in order, `source_chain`), or the
`attempts` of a tool error, so that an agent can say which source served a number and why
the sources before it did not.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Attempts:
    """The ordered log of where numbers were looked for: the store first, then upstreams."""

    log: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, provider: str, dataset: str, outcome: str, detail: str | None = None) -> None:
        entry: dict[str, Any] = {"provider": provider, "dataset": dataset, "outcome": outcome}
        if detail:
            entry["detail"] = detail
        with self._lock:  # fetches run in worker threads
            self.log.append(entry)

    def merge(self, other: Attempts) -> None:
        """Append the log of a fetch made beside this answer's, where it is used."""
        with self._lock:
            self.log.extend(other.log)

    @property
    def chain(self) -> list[str]:
        seen: list[str] = []
        for entry in self.log:
            if entry["provider"] not in seen:
                seen.append(entry["provider"])
        return seen

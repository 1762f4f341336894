"""Last success and last failure per provider, for /healthz and quality reports."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _State:
    configured: bool = False
    last_success: dt.datetime | None = None
    last_error: dict[str, Any] | None = None
    calls: int = 0


@dataclass
class ProviderHealth:
    _states: dict[str, _State] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, provider: str, *, configured: bool) -> None:
        with self._lock:
            self._states.setdefault(provider, _State()).configured = configured

    def success(self, provider: str) -> None:
        with self._lock:
            state = self._states.setdefault(provider, _State())
            state.last_success = dt.datetime.now(dt.UTC)
            state.calls += 1

    def failure(self, provider: str, dataset: str, error: Exception) -> None:
        with self._lock:
            state = self._states.setdefault(provider, _State())
            state.calls += 1
            state.last_error = {
                "at": dt.datetime.now(dt.UTC).isoformat(),
                "dataset": dataset,
                "kind": type(error).__name__,
                "message": str(error),
            }

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                name: {
                    "configured": s.configured,
                    "last_success": s.last_success.isoformat() if s.last_success else None,
                    "last_error": s.last_error,
                    "calls": s.calls,
                }
                for name, s in self._states.items()
            }

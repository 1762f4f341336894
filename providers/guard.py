"""Quota-aware upstream calls: a per-minute request budget, bounded retries with backoff, a circuit breaker.

Every request a provider makes goes through its `Guard`, in this order:

1. the budget: at most `rate` requests in any minute, as upstreams count them (tushare: 200 a
   minute). While the minute has room a request goes at once; when it is spent, a caller queues
   for the first free slot if that comes within `max_wait` seconds, else gets `RateLimited` with
   the wait;
2. the breaker: open after `failures` consecutive failed requests, it refuses at once
   (`CircuitOpen`) until `cooldown` seconds have passed; then one trial request decides
   whether it closes again or stays open for another cooldown;
3. the request itself, retried in place on `UpstreamUnavailable` (`tries` in all, sleeping
   `backoff`, then twice that, ...), and asked once more after an upstream's own HTTP 429 that
   names its wait (Retry-After, capped at `patience`). Other errors are answers, not accidents.

A failure, for the breaker, is a request that ended in `UpstreamUnavailable` or `BadPayload`:
a rate limit or a missing permission says nothing about the upstream's health.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from providers.errors import BadPayload, CircuitOpen, RateLimited, UpstreamUnavailable

T = TypeVar("T")
Monotonic = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Limits:
    rate: float = 120.0  # requests per minute
    max_wait: float = 10.0  # seconds a caller may queue for a slot in the budget
    tries: int = 3
    backoff: float = 0.5
    failures: int = 5  # consecutive failed requests that open the breaker
    cooldown: float = 60.0  # seconds the breaker stays open


class MinuteBudget:
    """`rate` requests per sliding minute; a rate under one a minute is one request per 60/rate s."""

    def __init__(self, rate_per_minute: float, now: Monotonic) -> None:
        self._capacity = max(1, math.floor(rate_per_minute))
        self._window = self._capacity * 60.0 / rate_per_minute
        self._slots: deque[float] = deque()  # when each request in the window goes (queued ones later)
        self._now = now
        self._lock = threading.Lock()

    def reserve(self, max_wait: float) -> tuple[float, float | None]:
        """(seconds to wait, the slot taken); no slot (None) when the wait would exceed `max_wait`."""
        with self._lock:
            now = self._now()
            while self._slots and self._slots[0] <= now - self._window:
                self._slots.popleft()
            full = len(self._slots) >= self._capacity
            slot = self._slots[-self._capacity] + self._window if full else now
            wait = max(0.0, slot - now)
            if wait > max_wait:
                return wait, None
            self._slots.append(slot)
            return wait, slot

    def give_back(self, slot: float) -> None:
        with self._lock:
            if slot in self._slots:  # else it has left the window already
                self._slots.remove(slot)


class CircuitBreaker:
    def __init__(self, failures: int, cooldown: float, now: Monotonic) -> None:
        self._threshold = failures
        self._cooldown = cooldown
        self._now = now
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "half_open" if self._now() - self._opened_at >= self._cooldown else "open"

    def admit(self) -> float:
        """0 if a request may go now, else the seconds until the breaker lets one through."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            waited = self._now() - self._opened_at
            if waited < self._cooldown or self._trial:
                return max(1.0, self._cooldown - waited)
            self._trial = True  # one request tests the upstream; the others still wait
            return 0.0

    def record(self, ok: bool) -> None:
        with self._lock:
            self._trial = False
            if ok:
                self._consecutive = 0
                self._opened_at = None
                return
            self._consecutive += 1
            if self._opened_at is not None or self._consecutive >= self._threshold:
                self._opened_at = self._now()


class Guard:
    def __init__(
        self,
        provider: str,
        limits: Limits,
        *,
        now: Monotonic = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.provider = provider
        self.limits = limits
        self.budget = MinuteBudget(limits.rate, now)
        self.breaker = CircuitBreaker(limits.failures, limits.cooldown, now)
        self._sleep = sleep

    def run(self, dataset: str, request: Callable[[], T], observe: Callable[[str], None]) -> T:
        """One logical call: admitted, throttled and retried as the module docstring says."""
        delay = self.limits.backoff
        attempt, waited_out = 0, False
        while True:
            attempt += 1
            wait, slot = self.budget.reserve(self.limits.max_wait)
            if slot is None:
                observe("Throttled")
                raise RateLimited(
                    f"{self.provider} request budget ({self.limits.rate:g}/min) is spent for now",
                    provider=self.provider,
                    dataset=dataset,
                    retry_after=max(1, math.ceil(wait)),
                )
            refused = self.breaker.admit()
            if refused:
                self.budget.give_back(slot)
                observe("CircuitOpen")
                raise CircuitOpen(
                    f"{self.provider} is failing: not asked for {math.ceil(refused)} s (circuit breaker open)",
                    provider=self.provider,
                    dataset=dataset,
                    retry_after=math.ceil(refused),
                )
            if wait:
                self._sleep(wait)
            try:
                result = request()
            except (UpstreamUnavailable, BadPayload) as exc:
                self.breaker.record(ok=False)
                observe(type(exc).__name__)
                if isinstance(exc, UpstreamUnavailable) and attempt < self.limits.tries:
                    self._sleep(delay)
                    delay *= 2
                    continue
                raise
            except RateLimited as exc:
                self.breaker.record(ok=True)
                observe(type(exc).__name__)
                if exc.asked_wait is None or waited_out:
                    raise
                waited_out = True  # the upstream asked for a pause: once, and never longer than the patience
                self._sleep(min(max(exc.asked_wait, self.limits.backoff), self.patience))
                continue
            except Exception as exc:
                self.breaker.record(ok=True)
                observe(type(exc).__name__)
                raise
            self.breaker.record(ok=True)
            observe("ok")
            return result

    @property
    def patience(self) -> float:
        """The longest an upstream's own 429 is waited out inside a call: 4 x the backoff (2 s by default)."""
        return 4 * self.limits.backoff

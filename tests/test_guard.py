"""The guard's three mechanisms on a clock the test moves: the request budget, breaker, retries."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from providers import units
from providers.errors import BadPayload, CircuitOpen, PermissionDenied, RateLimited, UpstreamUnavailable
from providers.guard import Guard, Limits


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _guard(ticks: Ticks, **limits: float) -> Guard:
    return Guard("up", Limits(**limits), now=ticks, sleep=ticks.sleep)  # type: ignore[arg-type]


def _down() -> None:
    raise UpstreamUnavailable("down", provider="up", dataset="d")


def test_a_minutes_budget_goes_at_once_then_callers_queue_or_are_refused_with_the_wait() -> None:
    ticks = Ticks()
    guard = _guard(ticks, rate=30, max_wait=5)
    outcomes: list[str] = []
    for _ in range(30):  # the whole minute's budget, with no waiting (a small burst refused most of these)
        guard.run("d", lambda: 1, outcomes.append)
    assert ticks.slept == [] and outcomes == ["ok"] * 30
    ticks.now = 57.0
    guard.run("d", lambda: 1, outcomes.append)  # the 31st queues until the first leaves the minute
    assert ticks.slept == [pytest.approx(3.0)]
    for _ in range(29):  # at 60 s the first minute's requests have all left it
        guard.run("d", lambda: 1, outcomes.append)
    assert len(ticks.slept) == 1
    with pytest.raises(RateLimited) as spent:  # the next slot is a minute away: beyond a bearable wait
        guard.run("d", lambda: 1, outcomes.append)
    assert spent.value.retry_after == 60
    slow = _guard(Ticks(), rate=6, max_wait=1.0)
    for _ in range(6):
        slow.run("d", lambda: 1, outcomes.append)
    with pytest.raises(RateLimited) as caught:
        slow.run("d", lambda: 1, outcomes.append)
    assert caught.value.retry_after == 60 and outcomes[-1] == "Throttled"


def test_a_refused_caller_takes_no_slot() -> None:
    ticks = Ticks()
    guard = _guard(ticks, rate=1, max_wait=0)
    guard.run("d", lambda: 1, lambda _: None)
    for _ in range(3):
        with pytest.raises(RateLimited):
            guard.run("d", lambda: 1, lambda _: None)
    ticks.now = 60.0  # one minute after the one request that went: the budget is whole again
    guard.run("d", lambda: 1, lambda _: None)
    assert ticks.slept == []


def test_retries_only_transient_failures_with_doubling_backoff() -> None:
    ticks = Ticks()
    guard = _guard(ticks, tries=3, backoff=0.5, failures=10)
    with pytest.raises(UpstreamUnavailable):
        guard.run("d", _down, lambda _: None)
    assert ticks.slept == [0.5, 1.0]

    def refused() -> None:
        raise PermissionDenied("no", provider="up", dataset="d")

    with pytest.raises(PermissionDenied):
        guard.run("d", refused, lambda _: None)
    assert ticks.slept == [0.5, 1.0]


def test_breaker_opens_half_opens_and_closes() -> None:
    ticks = Ticks()
    guard = _guard(ticks, tries=1, failures=5, cooldown=60)
    for _ in range(5):
        with pytest.raises(UpstreamUnavailable):
            guard.run("d", _down, lambda _: None)
    assert guard.breaker.state == "open"
    with pytest.raises(CircuitOpen) as caught:
        guard.run("d", lambda: 1, lambda _: None)
    assert caught.value.retry_after == 60
    ticks.now += 61
    assert guard.breaker.state == "half_open"
    with pytest.raises(UpstreamUnavailable):  # the trial fails: open for another cooldown
        guard.run("d", _down, lambda _: None)
    assert guard.breaker.state == "open"
    ticks.now += 61
    assert guard.run("d", lambda: "ok", lambda _: None) == "ok"
    assert guard.breaker.state == "closed"


def test_bad_payloads_count_as_failures_but_refusals_do_not() -> None:
    guard = _guard(Ticks(), tries=1, failures=2)

    def bad() -> None:
        raise BadPayload("junk", provider="up", dataset="d")

    def limited() -> None:
        raise RateLimited("slow down", provider="up", dataset="d", retry_after=60)

    for failing in (bad, limited, bad):
        with pytest.raises((BadPayload, RateLimited)):
            guard.run("d", failing, lambda _: None)
    assert guard.breaker.state == "closed"  # the refusal in between reset the count
    with pytest.raises(BadPayload):
        guard.run("d", bad, lambda _: None)
    assert guard.breaker.state == "open"


def test_an_upstreams_own_429_with_a_wait_is_waited_out_once_and_capped() -> None:
    ticks = Ticks()
    guard = _guard(ticks, tries=3, backoff=0.5)
    answers: list[object] = [RateLimited("429", provider="up", dataset="d", retry_after=1, asked_wait=1.0), "ok"]

    def once() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    outcomes: list[str] = []
    assert guard.run("d", once, outcomes.append) == "ok"
    assert ticks.slept == [1.0] and outcomes == ["RateLimited", "ok"]

    def always() -> None:  # asks for a minute: waited for the patience (4 x backoff) once, then surfaced
        raise RateLimited("429", provider="up", dataset="d", retry_after=60, asked_wait=60.0)

    with pytest.raises(RateLimited):
        guard.run("d", always, lambda _: None)
    assert ticks.slept == [1.0, 2.0]

    def quota() -> None:  # a quota the upstream names in its answer, with no wait asked: never slept through
        raise RateLimited("quota", provider="up", dataset="d", retry_after=60)

    with pytest.raises(RateLimited):
        guard.run("d", quota, lambda _: None)
    assert ticks.slept == [1.0, 2.0]


# A real bar: 600519.SH on 2024-06-20 from tushare (vol in lots, amount in thousand CNY).
BAR: dict[str, Any] = {
    "ts_code": "600519.SH", "trade_date": "2024-06-20", "open": 1500.0, "high": 1516.01, "low": 1498.0,
    "close": 1500.1, "pre_close": 1512.0, "vol": 24710.68, "amount": 3715924.984, "currency": "CNY",
}  # fmt: skip


def test_canonical_units_pass() -> None:
    units.check("daily", "cn", pd.DataFrame([BAR]), "up")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"vol": BAR["vol"] * 100}, "not in lots and thousand CNY"),  # shares slipped through
        ({"amount": BAR["amount"] * 1000}, "not in lots and thousand CNY"),  # CNY slipped through
        ({"close": 0.0}, "zero or negative"),
        ({"close": 1600.0}, "outside low..high"),
        ({"currency": "USD"}, "not in CNY"),
    ],
)
def test_wrong_units_are_an_error_not_a_number(change: dict[str, object], why: str) -> None:
    with pytest.raises(BadPayload, match=why):
        units.check("daily", "cn", pd.DataFrame([{**BAR, **change}]), "up")

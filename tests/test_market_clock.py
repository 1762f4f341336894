"""Market state and bar finality on the Asia/Shanghai clock."""

from __future__ import annotations

import datetime as dt

import pytest

from providers.models import SHANGHAI
from tests.conftest import SettableClock
from warehouse.market_clock import MarketClock

DAY = dt.date(2024, 12, 31)


@pytest.mark.parametrize(
    ("hour", "minute", "state"),
    [
        (8, 0, "pre_open"), (9, 20, "pre_open"), (9, 30, "open"), (11, 29, "open"), (11, 45, "lunch_break"),
        (13, 0, "open"), (14, 57, "closing"), (14, 59, "closing"), (15, 0, "closed"), (15, 59, "closed"),
        (16, 0, "closed_final"), (23, 0, "closed_final"),
    ],
)  # fmt: skip
def test_states_through_a_trading_day(hour: int, minute: int, state: str) -> None:
    clock = SettableClock()
    clock.set(2024, 12, 31, hour, minute)
    assert MarketClock(clock, dt.time(16, 0)).state(DAY, is_open_day=True) == state


def test_past_days_are_final_and_holidays_closed() -> None:
    market = MarketClock(SettableClock(), dt.time(16, 0))
    assert market.state(dt.date(2024, 12, 30), is_open_day=True) == "closed_final"
    assert market.state(dt.date(2024, 12, 28), is_open_day=False) == "closed"
    assert market.state(DAY, is_open_day=False) == "closed"


def test_expiry_of_todays_bar() -> None:
    market = MarketClock(SettableClock(), dt.time(16, 0))

    def at(hour: int, minute: int) -> dt.datetime:
        return dt.datetime(2024, 12, 31, hour, minute, tzinfo=SHANGHAI)

    assert market.expires_at(DAY, at(10, 0)) == at(15, 0)
    assert market.expires_at(DAY, at(15, 30)) == at(16, 0)
    assert market.expires_at(DAY, at(16, 0)) is None

"""Exchange sessions on the Asia/Shanghai clock: market state and when a day's bar is final.

A-share sessions: call auction 09:15-09:25, continuous 09:30-11:30 and 13:00-14:57, closing
call auction 14:57-15:00. Upstream publishes the day's final bar some time after the close
(`TWILIGHT_BAR_FINAL_TIME`, 16:00 by default); until then the bar may be missing or change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from providers.models import SHANGHAI

Clock = Callable[[], dt.datetime]

_OPEN = dt.time(9, 30)
_LUNCH = dt.time(11, 30)
_AFTERNOON = dt.time(13, 0)
_CLOSING = dt.time(14, 57)
_CLOSE = dt.time(15, 0)


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_hhmm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


class MarketClock:
    def __init__(self, clock: Clock, final_time: dt.time) -> None:
        self.now = clock
        self.final_time = final_time

    def today(self) -> dt.date:
        return self.now().astimezone(SHANGHAI).date()

    def at(self, day: dt.date, when: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, when, SHANGHAI)

    def close_of(self, day: dt.date) -> dt.datetime:
        return self.at(day, _CLOSE)

    def final_of(self, day: dt.date) -> dt.datetime:
        return self.at(day, self.final_time)

    def is_final(self, day: dt.date, fetched_at: dt.datetime) -> bool:
        """A bar fetched after the day's final time never changes again."""
        return fetched_at >= self.final_of(day)

    def expires_at(self, day: dt.date, fetched_at: dt.datetime) -> dt.datetime | None:
        """When a stored bar of `day` must be fetched again; None means never."""
        if self.is_final(day, fetched_at):
            return None
        close = self.close_of(day)
        return close if fetched_at < close else self.final_of(day)

    def state(self, day: dt.date, is_open_day: bool) -> str:
        """State of the market for `day`, as seen now."""
        now = self.now().astimezone(SHANGHAI)
        if day < now.date():
            return "closed_final" if is_open_day else "closed"
        if day > now.date() or not is_open_day:
            return "closed" if not is_open_day else "pre_open"
        t = now.time()
        if t < _OPEN:
            return "pre_open"
        if t < _LUNCH:
            return "open"
        if t < _AFTERNOON:
            return "lunch_break"
        if t < _CLOSING:
            return "open"
        if t < _CLOSE:
            return "closing"
        return "closed_final" if now >= self.final_of(day) else "closed"


class GlobalClock:
    """Bars of global tickers, which have no exchange calendar here.

    A day's bar counts as final from 12:00 UTC the next day, by when every exchange from
    Tokyo to New York has closed and its data vendors have published; until then a fetch is
    trusted for `ttl`. There is no session clock either, so the state is only ever
    `closed_final` (final) or `closed` (not yet known to be final), and cites say so.
    """

    BASIS = "global ticker: no exchange calendar; a bar counts as final from 12:00 UTC the next day"

    def __init__(self, clock: Clock, ttl: dt.timedelta = dt.timedelta(minutes=15)) -> None:
        self.now = clock
        self._ttl = ttl

    def today(self) -> dt.date:
        return self.now().astimezone(SHANGHAI).date()  # the latest calendar date anywhere we serve

    def final_of(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(12, 0), dt.UTC)

    def is_final(self, day: dt.date, fetched_at: dt.datetime) -> bool:
        return fetched_at >= self.final_of(day)

    def expires_at(self, day: dt.date, fetched_at: dt.datetime) -> dt.datetime | None:
        return None if self.is_final(day, fetched_at) else min(fetched_at + self._ttl, self.final_of(day))

    def state(self, day: dt.date, is_open_day: bool) -> str:
        return "closed_final" if self.now() >= self.final_of(day) else "closed"

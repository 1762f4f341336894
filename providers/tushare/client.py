"""One door to tushare: the official SDK, with timeout, bounded retries and typed errors.

The SDK raises a bare `Exception(msg)` for every API error and returns an empty, column-less
DataFrame for an HTTP error status, so this module is where tushare's messages become the
classes of `providers.errors`. Nothing above it ever looks at a message.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from providers.contract import ALL, Payload, Query
from providers.errors import (
    AuthFailed,
    BadPayload,
    CredentialsMissing,
    DailyQuotaExhausted,
    PermissionDenied,
    ProviderError,
    RateLimited,
    UpstreamUnavailable,
)
from providers.models import SHANGHAI
from providers.symbols import tushare_date

if TYPE_CHECKING:
    import pandas as pd

NAME = "tushare"


def _seconds_to_midnight_shanghai() -> int:
    now = dt.datetime.now(SHANGHAI)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0), SHANGHAI)
    return max(1, int((midnight - now).total_seconds()))


def window(query: Query, scope: str = "ts_code") -> dict[str, Any]:
    """The parameters of a date-window question, which most tushare APIs share.

    The whole market (code ALL) is asked by trade_date: one day, every code.
    """
    if query.code == ALL:
        return {"trade_date": tushare_date(query.start)}
    return {scope: query.code, "start_date": tushare_date(query.start), "end_date": tushare_date(query.end)}


Steps = tuple[
    Callable[[Query], dict[str, Any]], Callable[["TushareClient", dict[str, Any]], Payload],
    Callable[[Payload, Query], "pd.DataFrame"],
]  # fmt: skip


def by_code(query: Query) -> dict[str, Any]:
    """The parameters of a question about one code's standing facts (a name, a listing); the whole
    list (code ALL) is asked with none."""
    return {} if query.code == ALL else {"ts_code": query.code}


def steps(
    api: str,
    fields: str,
    ask: Callable[[Query], dict[str, Any]] = window,
    read: Callable[[Payload], pd.DataFrame] | None = None,
) -> Steps:
    """The three steps of a dataset's module where tushare's columns are already the declared ones.

    Most datasets are asked alike (a code's window, `ask`) and read as sent (`read`: the frame as
    is), so a module is its constants and one line; one that differs writes its own steps.
    """

    def translate_query(query: Query) -> dict[str, Any]:
        return {**ask(query), "fields": fields}

    def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
        return client.query(api, params)

    def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
        return payload.frame() if read is None else read(payload)

    return translate_query, fetch, translate_result


def statement_steps(api: str, fields: str) -> Steps:
    """The steps of a financial statement: statements announced in [start, end] are asked
    (tushare's start_date/end_date of a statement are announcement dates), read by `statements`."""
    return steps(api, fields, read=statements)


def statements(payload: Payload) -> pd.DataFrame:
    """A financial statement's rows (income, balancesheet, cashflow): the consolidated ones only,
    one per (code, period, announcement).

    Only report_type 1 (合并报表) is kept: the single-quarter and parent-only types are other
    figures under the same period. tushare re-sends a statement (update_flag 0 and 1 under one
    announcement): the updated one is kept. A restatement (a later `ann_date`) is kept beside the
    original, so that a question about a day before it gets the figures public then.
    """
    import pandas as pd

    frame = payload.frame()
    if not len(frame):
        return frame
    if "report_type" in frame.columns:
        frame = frame[pd.to_numeric(frame["report_type"], errors="coerce") == _CONSOLIDATED]
    order = ["end_date", "ann_date", *(["update_flag"] if "update_flag" in frame.columns else [])]
    frame = frame.sort_values(order, kind="stable")
    return frame.drop_duplicates(["ts_code", "end_date", "ann_date"], keep="last")


_CONSOLIDATED = 1


def classify(api: str, exc: Exception) -> ProviderError:
    """Turn what the SDK raised into a typed error (by message: the SDK raises bare Exceptions)."""
    import requests  # loaded already: the SDK is made of it

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, requests.Timeout):
        return UpstreamUnavailable(f"tushare {api} timed out", provider=NAME, dataset=api)
    if isinstance(exc, requests.RequestException):
        return UpstreamUnavailable(f"tushare {api} unreachable: {type(exc).__name__}", provider=NAME, dataset=api)
    if isinstance(exc, (json.JSONDecodeError, KeyError, TypeError)):
        return BadPayload(f"tushare {api} answered a malformed payload: {exc!r}", provider=NAME, dataset=api)
    message = str(exc)
    # tushare's quota messages also mention 权限 (a link to the permissions page): test them first.
    lowered = message.lower()
    if (
        "token" in lowered and any(w in message for w in ("无效", "不对", "错误", "失效"))
    ) or "invalid token" in lowered:
        return AuthFailed(f"tushare rejected the token: {message}", provider=NAME, dataset=api)
    if "每分钟" in message or "per minute" in lowered:
        return RateLimited(f"tushare per-minute limit: {message}", provider=NAME, dataset=api, retry_after=60)
    if "每天" in message or "每日" in message or "per day" in lowered:
        return DailyQuotaExhausted(
            f"tushare daily quota used up: {message}",
            provider=NAME,
            dataset=api,
            retry_after=_seconds_to_midnight_shanghai(),
        )
    if "权限" in message or "积分" in message or "permission" in lowered:
        return PermissionDenied(f"tushare: no permission for {api}: {message}", provider=NAME, dataset=api)
    return UpstreamUnavailable(f"tushare {api} failed: {message}", provider=NAME, dataset=api)


class TushareClient:
    """The SDK behind one token; `query` is exactly one request (the guard retries)."""

    def __init__(self, token: str | None, api_url: str | None, *, timeout: float) -> None:
        self._token = token or None
        self._api_url = api_url.rstrip("/") if api_url else None
        self._timeout = timeout
        self._api: Any = None

    @property
    def configured(self) -> bool:
        return self._token is not None

    def _sdk(self) -> Any:
        if self._token is None:
            raise CredentialsMissing("TUSHARE_TOKEN is not set", provider=NAME, dataset="*")
        if self._api is None:
            import tushare

            api = tushare.pro_api(token=self._token, timeout=self._timeout)
            if self._api_url:
                api._DataApi__http_url = self._api_url  # the SDK has no public setting for it
            self._api = api
        return self._api

    def query(self, api: str, params: dict[str, Any]) -> Payload:
        import pandas as pd

        try:
            frame = self._sdk().query(api, **params)
        except Exception as exc:
            error = classify(api, exc)
            if error is exc:
                raise
            raise error from exc
        if not isinstance(frame, pd.DataFrame):
            raise BadPayload(f"tushare {api} returned {type(frame).__name__}", provider=NAME, dataset=api)
        if len(frame.columns) == 0:
            raise UpstreamUnavailable(f"tushare {api} answered an HTTP error status", provider=NAME, dataset=api)
        return Payload.of(api, frame)

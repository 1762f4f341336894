"""The pytdx provider end to end: the real pytdx client, through `Provider`, against a loopback TDX server.

The fake serves tushare's real daily bars re-encoded in TDX's units, so a provider that gets the
units right hands back tushare's own numbers: prices exactly, vol and amount within the float32
rounding of TDX's wire format.
"""

from __future__ import annotations

import datetime as dt
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from pytdx.helper import get_price, get_volume

from providers.contract import Payload, Query
from providers.errors import BadPayload, NoData, UpstreamUnavailable
from providers.guard import Guard, Limits
from providers.health import ProviderHealth
from providers.provider import Fetched, Provider
from providers.pytdx import daily
from providers.pytdx.client import NAME, TdxClient, classify, parse_servers
from tests.fake_tdx import FakeTdx, encode_price, encode_volume

FIXTURES = Path(__file__).parent / "fixtures" / "tushare"
FLOAT32 = 2.0**-23  # relative rounding of one IEEE-754 single float

MakeProvider = Callable[..., Provider]


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def make_provider(tdx: FakeTdx) -> Iterator[MakeProvider]:
    clients: list[TdxClient] = []

    def factory(servers: list[tuple[str, int]] | None = None, timeout: float = 1.0) -> Provider:
        client = TdxClient(servers or [tdx.address], timeout)
        clients.append(client)
        return Provider(
            NAME,
            client,
            [daily],
            classify=classify,
            guard=Guard(NAME, Limits(backoff=0.001)),
            health=ProviderHealth(),
            observe=lambda _provider, _dataset, _outcome: None,
            clock=lambda: dt.datetime.now(dt.UTC),
        )

    yield factory
    for client in clients:
        client.close()


def tushare_rows(code: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    path = next(FIXTURES.glob(f"daily_{code}_*.csv"))
    rows = pd.read_csv(path, dtype={"trade_date": str})
    rows["trade_date"] = pd.to_datetime(rows["trade_date"], format="%Y%m%d").dt.date
    window = rows[(rows["trade_date"] >= start) & (rows["trade_date"] <= end)]
    return window.sort_values("trade_date").reset_index(drop=True)


def ask(provider: Provider, code: str, start: dt.date, end: dt.date, *, latest: bool = False) -> Fetched:
    return provider.call(Query("daily", code, "cn", start, end, latest))


def assert_same_bars(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(expected) > 0
    assert list(got["trade_date"]) == list(expected["trade_date"])
    for column in ("open", "high", "low", "close"):
        assert list(got[column]) == list(expected[column]), column
    assert list(got["vol"]) == pytest.approx(list(expected["vol"]), rel=FLOAT32)
    assert list(got["amount"]) == pytest.approx(list(expected["amount"]), rel=FLOAT32)
    assert got["pre_close"].isna().all()
    assert set(got["currency"]) == {"CNY"}


@pytest.mark.parametrize(
    ("code", "start", "end", "pages"),
    [
        ("600519.SH", dt.date(2024, 6, 1), dt.date(2024, 6, 30), 1),
        ("000858.SZ", dt.date(2020, 3, 1), dt.date(2020, 4, 30), 2),
        ("600519.SH", dt.date(2020, 1, 1), dt.date(2024, 12, 31), 2),
    ],
)
def test_bars_are_tushares_figures_in_canonical_units(
    make_provider: MakeProvider, tdx: FakeTdx, code: str, start: dt.date, end: dt.date, pages: int
) -> None:
    fetched = ask(make_provider(), code, start, end)

    assert_same_bars(fetched.rows, tushare_rows(code, start, end))
    assert set(fetched.rows["ts_code"]) == {code}
    assert tdx.calls["get_security_bars"] == pages
    assert fetched.raw.source == NAME and fetched.raw.api_name == "get_security_bars"


@pytest.mark.parametrize(
    ("end", "newest"),
    [
        (dt.date(2024, 6, 16), dt.date(2024, 6, 14)),  # a Sunday: Friday's bar
        (dt.date(2020, 2, 1), dt.date(2020, 1, 23)),  # the 2020 Spring Festival closure, two pages back
    ],
)
def test_latest_is_the_newest_bar_on_or_before_end(make_provider: MakeProvider, end: dt.date, newest: dt.date) -> None:
    fetched = ask(make_provider(), "000858.SZ", end, end, latest=True)

    assert_same_bars(fetched.rows, tushare_rows("000858.SZ", newest, newest))


def test_a_code_the_server_does_not_know_has_no_rows(make_provider: MakeProvider) -> None:
    assert ask(make_provider(), "600000.SH", dt.date(2024, 1, 1), dt.date(2024, 1, 31)).rows.empty


def test_failover_skips_a_dead_server(make_provider: MakeProvider, tdx: FakeTdx, closed_port: int) -> None:
    client_servers = [("127.0.0.1", closed_port), tdx.address]
    provider = make_provider(client_servers)

    fetched = ask(provider, "600519.SH", dt.date(2024, 12, 1), dt.date(2024, 12, 31))

    assert len(fetched.rows) == 22
    assert provider.client.server == tdx.address


def test_the_connection_is_kept_and_renewed_when_the_server_drops_it(make_provider: MakeProvider, tdx: FakeTdx) -> None:
    provider = make_provider()
    ask(provider, "600519.SH", dt.date(2024, 12, 1), dt.date(2024, 12, 31))
    ask(provider, "000858.SZ", dt.date(2024, 12, 1), dt.date(2024, 12, 31))
    assert tdx.calls["connect"] == 1 and tdx.calls["setup"] == 3

    tdx.drop_connections()
    fetched = ask(provider, "600519.SH", dt.date(2024, 12, 1), dt.date(2024, 12, 31))

    assert len(fetched.rows) == 22
    assert tdx.calls["connect"] == 2


def test_worker_threads_share_one_connection(make_provider: MakeProvider, tdx: FakeTdx) -> None:
    provider = make_provider()
    results: list[int] = []

    def worker() -> None:
        results.append(len(ask(provider, "600519.SH", dt.date(2024, 1, 1), dt.date(2024, 12, 31)).rows))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [242] * 6
    assert tdx.calls["connect"] == 1


def test_everything_down_is_upstream_unavailable_after_the_guards_tries(
    make_provider: MakeProvider, tdx: FakeTdx, closed_port: int
) -> None:
    tdx.mode = "down"
    provider = make_provider([("127.0.0.1", closed_port), tdx.address])

    with pytest.raises(UpstreamUnavailable):
        ask(provider, "600519.SH", dt.date(2024, 12, 1), dt.date(2024, 12, 31))

    assert tdx.calls["connect"] == Limits().tries
    assert tdx.calls["get_security_bars"] == 0


def test_a_server_that_stops_answering_times_out(make_provider: MakeProvider, tdx: FakeTdx) -> None:
    provider = make_provider(timeout=0.2)
    ask(provider, "600519.SH", dt.date(2024, 12, 1), dt.date(2024, 12, 31))
    tdx.mode, tdx.delay = "slow", 0.5

    with pytest.raises(UpstreamUnavailable):
        ask(provider, "600519.SH", dt.date(2024, 12, 1), dt.date(2024, 12, 31))

    assert tdx.calls["get_security_bars"] == 1 + Limits().tries  # the guard retries; the client does not add its own


@pytest.mark.parametrize("mode", ["garbage", "short"])
def test_an_undecodable_frame_is_a_bad_payload_and_not_retried(
    make_provider: MakeProvider, tdx: FakeTdx, mode: str
) -> None:
    tdx.mode = mode

    with pytest.raises(BadPayload):
        ask(make_provider(), "600519.SH", dt.date(2024, 12, 1), dt.date(2024, 12, 31))

    assert tdx.calls["get_security_bars"] == 1


def test_beijing_codes_are_no_data_without_asking(make_provider: MakeProvider, tdx: FakeTdx) -> None:
    with pytest.raises(NoData, match="Beijing"):
        ask(make_provider(), "830799.BJ", dt.date(2024, 12, 1), dt.date(2024, 12, 31))

    assert sum(tdx.calls.values()) == 0


def test_a_day_without_trades_is_dropped_and_pre_close_is_not_invented() -> None:
    zero = get_volume(0)  # what pytdx makes of a zero on the wire
    bar = {"open": 10.0, "close": 10.5, "high": 10.6, "low": 9.9, "hour": 15, "minute": 0}
    frame = pd.DataFrame(
        [
            {**bar, "vol": 1000.0, "amount": 1_030_000.0, "year": 2024, "month": 3, "day": 1},
            {**bar, "vol": zero, "amount": zero, "year": 2024, "month": 3, "day": 4},
        ]
    )
    query = Query("daily", "600000.SH", "cn", dt.date(2024, 3, 1), dt.date(2024, 3, 4))

    rows = daily.translate_result(Payload.of("get_security_bars", frame), query)

    assert list(rows["trade_date"]) == [dt.date(2024, 3, 1)]
    assert rows["amount"].iloc[0] == 1030.0 and rows["vol"].iloc[0] == 1000.0
    assert rows["pre_close"].isna().all()


def test_parse_servers() -> None:
    assert parse_servers(["127.0.0.1:7709", " 180.153.18.170 "]) == [("127.0.0.1", 7709), ("180.153.18.170", 7709)]
    with pytest.raises(ValueError):
        parse_servers(["127.0.0.1:port"])


def test_the_fakes_encoders_invert_pytdxs_decoders() -> None:
    for value in (0, 1, -1, 63, 64, -64, 8191, 8192, 1_525_400, -1_525_400, 2**27 + 5):
        assert get_price(encode_price(value), 0) == (value, len(encode_price(value)))
    for amount in (128.0, 20759.32, 6_033_540_366.0, 35_114_075_007.0):
        single: float = struct.unpack("<f", struct.pack("<f", amount))[0]
        assert get_volume(encode_volume(amount)) == single

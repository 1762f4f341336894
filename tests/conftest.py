"""Shared test wiring: the fake tushare upstream, a runtime on a temporary home, a settable clock."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from ops.runtime import Runtime
from ops.settings import Settings
from providers.models import SHANGHAI
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_searxng import FakeDashScope, FakeGoogleCSE, FakeSearxng
from tests.fake_tdx import FakeTdx
from tests.fake_tushare import FakeTushare
from tests.fake_yahoo import FakeYahoo


class SettableClock:
    """A clock the test moves; starts at 2024-12-31 20:00 Asia/Shanghai (the day's bar final)."""

    def __init__(self, when: dt.datetime | None = None) -> None:
        self.when = when or dt.datetime(2024, 12, 31, 20, 0, tzinfo=SHANGHAI)

    def __call__(self) -> dt.datetime:
        return self.when.astimezone(dt.UTC)

    def set(self, year: int, month: int, day: int, hour: int = 20, minute: int = 0) -> None:
        self.when = dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def fake_tushare() -> Iterator[FakeTushare]:
    fake = FakeTushare(token="test-token").start()
    yield fake
    fake.stop()


@pytest.fixture
def upstream(fake_tushare: FakeTushare) -> FakeTushare:
    fake_tushare.reset()
    return fake_tushare


@pytest.fixture(scope="session")
def fake_eastmoney() -> Iterator[FakeEastmoney]:
    fake = FakeEastmoney().start()
    yield fake
    fake.stop()


@pytest.fixture
def eastmoney(fake_eastmoney: FakeEastmoney) -> FakeEastmoney:
    fake_eastmoney.reset()
    return fake_eastmoney


@pytest.fixture(scope="session")
def fake_yahoo() -> Iterator[FakeYahoo]:
    fake = FakeYahoo().start()
    yield fake
    fake.stop()


@pytest.fixture
def yahoo(fake_yahoo: FakeYahoo) -> FakeYahoo:
    fake_yahoo.reset()
    return fake_yahoo


@pytest.fixture(scope="session")
def fake_tdx() -> Iterator[FakeTdx]:
    fake = FakeTdx().start()
    yield fake
    fake.stop()


@pytest.fixture
def tdx(fake_tdx: FakeTdx) -> FakeTdx:
    fake_tdx.reset()
    return fake_tdx


def tdx_server(fake: FakeTdx) -> str:
    host, port = fake.address
    return f"{host}:{port}"


CLOSED = "127.0.0.1:9"  # the discard port: nothing listens, so a connection is refused at once


@pytest.fixture(scope="session")
def fake_searxng() -> Iterator[FakeSearxng]:
    fake = FakeSearxng().start()
    yield fake
    fake.stop()


@pytest.fixture
def searxng(fake_searxng: FakeSearxng) -> FakeSearxng:
    fake_searxng.reset()
    return fake_searxng


@pytest.fixture(scope="session")
def fake_google() -> Iterator[FakeGoogleCSE]:
    fake = FakeGoogleCSE().start()
    yield fake
    fake.stop()


@pytest.fixture
def google(fake_google: FakeGoogleCSE) -> FakeGoogleCSE:
    fake_google.reset()
    return fake_google


@pytest.fixture(scope="session")
def fake_dashscope() -> Iterator[FakeDashScope]:
    fake = FakeDashScope().start()
    yield fake
    fake.stop()


@pytest.fixture
def dashscope(fake_dashscope: FakeDashScope) -> FakeDashScope:
    fake_dashscope.reset()
    return fake_dashscope


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


RuntimeFactory = Callable[..., Runtime]


@pytest.fixture
def make_runtime(
    tmp_path: Path,
    upstream: FakeTushare,
    eastmoney: FakeEastmoney,
    yahoo: FakeYahoo,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RuntimeFactory]:
    """Runtimes whose every upstream is a loopback stand-in: never the internet.

    pytdx points at a refused port unless a test passes `tdx_servers=[tdx_server(tdx)]`, so
    that A-share fallbacks end at akshare by default.
    """
    for name in ("TUSHARE_TOKEN", "TUSHARE_API_URL", "TWILIGHT_DATABASE_URL", "TWILIGHT_HOME"):
        monkeypatch.delenv(name, raising=False)
    opened: list[Runtime] = []

    def factory(token: str | None = "test-token", **overrides: object) -> Runtime:
        values: dict[str, object] = {
            "upstream_backoff": 0.001,
            "upstream_timeout": 1.0,
            "eastmoney_url": eastmoney.url,
            "yahoo_url": yahoo.url,
            "tdx_servers": [CLOSED],
            **overrides,
        }
        settings = Settings(
            home=tmp_path / f"home{len(opened)}",
            tushare_token=SecretStr(token) if token else None,
            tushare_api_url=upstream.url,
            **values,  # type: ignore[arg-type]
        )
        rt = Runtime.open(settings, clock=clock)
        opened.append(rt)
        return rt

    yield factory
    for rt in opened:
        rt.close()


@pytest.fixture
def runtime(make_runtime: RuntimeFactory) -> Runtime:
    return make_runtime()


HERMES_VENV = Path(__file__).resolve().parents[1] / ".venv-hermes"
HERMES_PACKAGES = ["hermes-agent[mcp]==0.19.0", "aiohttp==3.14.1"]  # aiohttp: its API server (health, messages)


@pytest.fixture(scope="session")
def hermes() -> str:
    """A real `hermes`: hermes-agent lives in its own virtual environment (`.venv-hermes`, made on
    first use from the package registry), as it pins an older `mcp` than this project.
    TWILIGHT_TEST_HERMES_BIN names an installed one instead."""
    if os.environ.get("TWILIGHT_TEST_HERMES_BIN"):
        return os.environ["TWILIGHT_TEST_HERMES_BIN"]
    binary = HERMES_VENV / "bin" / "hermes"
    if not binary.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(HERMES_VENV)], check=True, timeout=120)
            subprocess.run([str(HERMES_VENV / "bin" / "pip"), "install", "-q", *HERMES_PACKAGES], check=True,
                           timeout=900, capture_output=True)  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"hermes-agent could not be installed into {HERMES_VENV} (no package registry?): {exc}")
    return str(binary)

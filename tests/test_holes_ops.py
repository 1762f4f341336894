"""Issue 15, holes 6, 9 and 12: the snapshot path is data, not SQL; a stale or dying server never
turns a warehouse command into a traceback; a stdio server whose warehouse is held still answers."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from tests.conftest import CLOSED, RuntimeFactory, SettableClock
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.fake_yahoo import FakeYahoo
from tests.helpers import TWILIGHT, free_port, serve

pytestmark = pytest.mark.anyio


def _env(home: Path, **extra: str) -> dict[str, str]:
    """The CLI's environment: this home, no upstream of the developer's shell, pytdx refused."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))}
    return {**clean, "TWILIGHT_HOME": str(home), "TWILIGHT_TDX_SERVERS": json.dumps([CLOSED]),
            "TWILIGHT_SCHEDULE": "false", "TWILIGHT_UPSTREAM_TRIES": "1", **extra}  # fmt: skip


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TWILIGHT, *args], env=env, capture_output=True, text=True, timeout=120)


# -- hole 6: the snapshot path ---------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        'it\'s "a";b c.duckdb',  # a quote, a double quote, a semicolon and spaces
        "x'; DROP TABLE cur_daily; --.duckdb",  # SQL, if it were pasted into a statement
    ],
)
async def test_snapshot_path_is_a_path_not_sql(
    make_runtime: RuntimeFactory, clock: SettableClock, tmp_path: Path, name: str
) -> None:
    clock.set(2025, 1, 2)
    rt = make_runtime()
    await rt.ingestor.backfill(dt.date(2024, 1, 1), dt.date(2024, 12, 31), ["600519.SH"])
    before = rt.store.query("SELECT count(*) FROM cur_daily")[0][0]
    target = tmp_path / "replicas" / name
    answer = rt.store.snapshot(target)
    assert answer["path"] == str(target.resolve()) and target.is_file()
    assert rt.store.query("SELECT count(*) FROM cur_daily")[0][0] == before > 0  # nothing was executed
    with duckdb.connect(str(target), read_only=True) as copy:
        assert copy.execute("SELECT count(*) FROM cur_daily").fetchone() == (before,)
    assert sorted(p.name for p in target.parent.iterdir()) == [name]  # no stray file from a cut-off path


# -- hole 9: a stale server.json, a server that dies mid-job --------------------------------
@pytest.fixture
def someone_elses_pid() -> Iterator[int]:
    """A live process that is no `twilight serve`: the PID a killed server's leftover file names
    once the system has given it to another process."""
    sleeper = subprocess.Popen(["sleep", "600"])
    yield sleeper.pid
    sleeper.kill()
    sleeper.wait()


def test_stale_server_json_with_a_reused_pid_is_ignored(tmp_path: Path, someone_elses_pid: int) -> None:
    home = tmp_path / "home"
    home.mkdir()
    left = {"pid": someone_elses_pid, "url": f"http://127.0.0.1:{free_port()}", "secret": "from-a-dead-server"}
    (home / "server.json").write_text(json.dumps(left))
    env = _env(home)
    stats = _cli(env, "warehouse", "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert "Traceback" not in stats.stderr and json.loads(stats.stdout)["layers"]
    assert not (home / "server.json").exists()  # the stale file is gone, not met again
    (home / "server.json").write_text(json.dumps(left))
    snapshot = _cli(env, "warehouse", "snapshot", str(tmp_path / "replica.duckdb"))
    assert snapshot.returncode == 0, snapshot.stderr
    assert (tmp_path / "replica.duckdb").stat().st_size > 0


class GatedTushare(FakeTushare):
    """The tushare stand-in, holding the first request made once `armed` until `release`."""

    def __init__(self) -> None:
        super().__init__(token="test-token")
        self.armed = False
        self.arrived = threading.Event()
        self.release = threading.Event()

    def answer(self, api: str, body: dict[str, Any]) -> tuple[int, dict[str, Any] | bytes]:
        if self.armed:
            self.arrived.set()
            self.release.wait(60)
        return super().answer(api, body)


@pytest.mark.slow
def test_server_killed_mid_job_is_a_sentence(
    tmp_path: Path, fake_eastmoney: FakeEastmoney, fake_yahoo: FakeYahoo
) -> None:
    tushare = GatedTushare().start()
    env = _env(tmp_path / "home", TUSHARE_TOKEN="test-token", TUSHARE_API_URL=tushare.url,
               TWILIGHT_EASTMONEY_URL=fake_eastmoney.url, TWILIGHT_YAHOO_URL=fake_yahoo.url)  # fmt: skip
    server = serve(env, free_port(), tmp_path / "server.log")
    try:
        tushare.armed = True
        job = subprocess.Popen([TWILIGHT, "ingest", "backfill", "--start", "20240101", "--end", "20241231",
                                "--codes", "600519"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
        assert tushare.arrived.wait(60), "the job never reached upstream"
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        tushare.release.set()
        _, stderr = job.communicate(timeout=60)
    finally:
        tushare.release.set()
        server.kill()
        tushare.stop()
    assert job.returncode == 1
    assert "Traceback" not in stderr and "httpx" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("twilight: the server") and "may or may not have finished" in last
    assert "twilight warehouse stats" in last


# -- hole 12: a stdio server beside the HTTP server that holds the warehouse ---------------
@pytest.mark.slow
async def test_stdio_server_answers_while_another_holds_the_warehouse(
    tmp_path: Path, fake_tushare: FakeTushare, fake_eastmoney: FakeEastmoney, fake_yahoo: FakeYahoo
) -> None:
    env = _env(tmp_path / "home", TUSHARE_TOKEN="test-token", TUSHARE_API_URL=fake_tushare.url,
               TWILIGHT_EASTMONEY_URL=fake_eastmoney.url, TWILIGHT_YAHOO_URL=fake_yahoo.url)  # fmt: skip
    port = free_port()
    server = serve(env, port, tmp_path / "server.log")
    try:
        # the README's stdio command: the transport as a setting, as the Inspector CLI needs it
        params = StdioServerParameters(command=TWILIGHT, args=["serve"], env={**env, "TWILIGHT_TRANSPORT": "stdio"})
        async with Client(params) as client:
            result = await client.call_tool("warehouse_features", {"code": "600519"})
            again = await client.call_tool("price", {"code": "600519", "trade_date": "2024-06-20"})
            with pytest.raises(MCPError, match="held by the server at"):
                await client.list_tools()  # what the Inspector shows: the reason, not "Connection closed"
    finally:
        server.terminate()
        server.wait(10)
    assert result.is_error and again.is_error
    error = json.loads(result.content[0].text)["error"]  # type: ignore[union-attr]
    assert error["category"] == "SERVICE" and error["tool_call_id"].startswith("tc_")
    assert "held by" in error["message"] and f"http://127.0.0.1:{port}/mcp" in error["message"]
    assert f"pid {server.pid}" in error["message"]
    assert "stop it" in error["remedy"] and "HTTP" in error["remedy"]

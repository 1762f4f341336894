"""The ledger of answers and their signed receipts, over real HTTP, across a server restart:
every answer is recorded under its tool_call_id and checkable with the public key alone."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from citation.receipts import check
from ops.runtime import Runtime
from ops.settings import Settings
from tests.conftest import RuntimeFactory
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.helpers import TWILIGHT, call, free_port, serve
from warehouse.ledger import LOCAL_OPERATOR, Ledger
from warehouse.store import Warehouse

pytestmark = pytest.mark.anyio


def checked_by_hand(answer: dict[str, Any], public_pem: str) -> bool:
    """What the README tells a holder of a result to do, with nothing of ours imported."""
    receipt = answer["cite"]["receipt"]
    unsigned = {**answer, "cite": {k: v for k, v in answer["cite"].items() if k != "receipt"}}
    data = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    key = load_pem_public_key(public_pem.encode())
    assert isinstance(key, Ed25519PublicKey)
    try:
        key.verify(base64.b64decode(receipt["signature"]), data)
    except InvalidSignature:
        return False
    return bool(hashlib.sha256(data).hexdigest() == receipt["sha256"])


async def _price(url: str, token: str) -> dict[str, Any]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(url + "/mcp", http_client=http)) as client,
    ):
        result = await client.call_tool("price", {"code": "600519", "trade_date": "2024-06-20"})
    assert not result.is_error, result.content
    body: dict[str, Any] = result.structured_content or {}
    return body


@pytest.mark.slow
async def test_answers_are_signed_recorded_and_survive_a_restart(
    fake_tushare: FakeTushare, fake_eastmoney: FakeEastmoney, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))},
           "TWILIGHT_HOME": str(home), "TUSHARE_TOKEN": "test-token", "TUSHARE_API_URL": fake_tushare.url,
           "TWILIGHT_EASTMONEY_URL": fake_eastmoney.url, "TWILIGHT_TDX_SERVERS": '["127.0.0.1:9"]',
           "TWILIGHT_SCHEDULE": "false"}  # fmt: skip

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TWILIGHT, *args], env=env, capture_output=True, text=True, timeout=60)

    token = cli("token", "issue", "--user", "alice").stdout.strip().splitlines()[-1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = serve(env, port, tmp_path / "server.log")
    try:
        body = await _price(url, token)
        key = httpx.get(url + "/receipts/public-key").json()
        tc = body["cite"]["tool_call_id"]
        assert body["cite"]["receipt"]["alg"] == "Ed25519" and body["cite"]["receipt"]["key_id"] == key["key_id"]
        assert checked_by_hand(body, key["public_key_pem"]) and check(body, key["public_key_pem"])
        assert type(body["open_raw"]) is int  # 1500.0 is served as 1500: what a JavaScript client writes back
        tampered = {**body, "close_raw": 1501.1}
        assert not checked_by_hand(tampered, key["public_key_pem"]) and not check(tampered, key["public_key_pem"])
        shown = cli("ledger", "show", tc, "--json")  # the server holds the warehouse: the job goes to it
        assert shown.returncode == 0, shown.stderr
        entry = json.loads(shown.stdout)
        assert entry["caller"] == "user:alice" and entry["tool"] == "price" and entry["answer"] == body
        assert entry["arguments"] == {"code": "600519", "trade_date": "2024-06-20"}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
    key_file = home / "receipts" / "ed25519.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    offline = cli("ledger", "show", tc)  # no server: the CLI reads the warehouse itself
    assert offline.returncode == 0 and tc in offline.stdout and "user:alice" in offline.stdout, offline.stderr
    missing = cli("ledger", "show", "tc_0000000000000000")
    assert missing.returncode == 2 and "no answer" in missing.stderr
    server = serve(env, port, tmp_path / "server2.log")
    try:
        again = httpx.get(url + "/receipts/public-key").json()
        assert again == key  # the same key after a restart: old receipts still check
        assert checked_by_hand(body, again["public_key_pem"])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
    assert token not in (tmp_path / "server.log").read_text()


async def test_every_tool_answer_carries_a_receipt_and_stdio_is_the_local_operator(runtime: Runtime) -> None:
    asked: list[tuple[str, dict[str, str]]] = [
        ("ping", {}), ("price", {"code": "000858", "trade_date": "20240620"}),
        ("fundamentals", {"code": "600519", "trade_date": "20240620"}), ("quality_status", {}),
    ]  # fmt: skip
    for tool, arguments in asked:
        body = (await call(runtime, tool, **arguments)).structured_content
        assert body is not None and check(body, runtime.signer.public_pem()), tool
        entry = runtime.ledger.entries([body["cite"]["tool_call_id"]], LOCAL_OPERATOR)
        assert entry[body["cite"]["tool_call_id"]].answer == body


async def test_a_failed_call_is_not_recorded(runtime: Runtime) -> None:
    result = await call(runtime, "price", code="600519", trade_date="2024-06-22")
    assert result.is_error
    runtime.ledger.flush()
    with closing(sqlite3.connect(runtime.ledger.path)) as db:
        assert db.execute("SELECT count(*) FROM answer_ledger").fetchone() == (0,)


async def test_a_caller_reads_only_their_own_entries(runtime: Runtime) -> None:
    body = (await call(runtime, "ping")).structured_content
    assert body is not None
    tc = body["cite"]["tool_call_id"]
    assert runtime.ledger.entries([tc], "user:mallory") == {}
    assert set(runtime.ledger.entries([tc], None)) == {tc}  # operators see every caller's


async def test_retention_prunes_old_entries(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime(ledger_retention_days=30)
    old = (await call(rt, "ping")).structured_content
    assert old is not None
    rt.ledger.flush()
    with closing(sqlite3.connect(rt.ledger.path)) as db, db:
        db.execute("UPDATE answer_ledger SET recorded_at = datetime(recorded_at, '-31 days')")
    new = (await call(rt, "ping")).structured_content
    assert new is not None
    assert rt.ledger.prune(rt.clock.now()) == 1
    kept = rt.ledger.entries([old["cite"]["tool_call_id"], new["cite"]["tool_call_id"]], None)
    assert set(kept) == {new["cite"]["tool_call_id"]}


def test_a_given_key_file_is_used(make_runtime: RuntimeFactory, tmp_path: Path) -> None:
    key = tmp_path / "operator-key.pem"
    first = make_runtime(receipt_key_file=key)
    second = make_runtime(receipt_key_file=key)
    assert first.signer.key_id == second.signer.key_id and key.exists()


async def test_the_ledger_is_its_own_file_with_the_callers_mode(runtime: Runtime) -> None:
    body = (await call(runtime, "ping")).structured_content
    assert body is not None
    runtime.ledger.flush()
    assert runtime.ledger.path == runtime.settings.home / "ledger.sqlite"
    assert stat.S_IMODE(runtime.ledger.path.stat().st_mode) == 0o600  # answers are their callers' own
    tables = runtime.store.query("SELECT table_name FROM duckdb_tables() WHERE table_name = 'answer_ledger'")
    assert tables == []  # nothing of it in the warehouse (nor in its snapshots)


def test_a_warehouse_ledger_of_an_earlier_release_is_moved_into_the_file(make_runtime: RuntimeFactory) -> None:
    """A release before kept the ledger as a DuckDB table in the warehouse: opening the warehouse
    moves its entries, and a reply cited against one of them still checks."""
    first = make_runtime()
    home = first.settings.home
    first.close()
    answer = {"ok": True, "cite": {"tool_call_id": "tc_00000000000000aa"}}
    with closing(Warehouse(home / "warehouse.duckdb")) as old:
        old.query(
            "CREATE TABLE answer_ledger (tool_call_id VARCHAR, caller VARCHAR, tool VARCHAR, arguments JSON,"
            " answer JSON, recorded_at TIMESTAMP, server_version VARCHAR)"
        )
        old.query(
            "INSERT INTO answer_ledger VALUES ('tc_00000000000000aa', 'user:alice', 'ping', '{}', ?,"
            " TIMESTAMP '2026-11-30 08:00:00', '0.9.0')",
            [json.dumps(answer)],
        )
    (home / "ledger.sqlite").unlink()
    settings = Settings(home=home, tushare_token=None)
    with closing(Warehouse(settings.warehouse_path)) as store:
        ledger = Ledger(settings.ledger_path, 400)
        assert ledger.adopt(store) == 1
        assert ledger.adopt(store) == 0  # once: the table is gone
        entry = ledger.entries(["tc_00000000000000aa"], "user:alice")["tc_00000000000000aa"]
        ledger.close()
        assert entry.answer == answer and entry.tool == "ping" and entry.server_version == "0.9.0"
        assert entry.recorded_at.isoformat() == "2026-11-30T08:00:00+00:00"
        assert store.query("SELECT 1 FROM duckdb_tables() WHERE table_name = 'answer_ledger'") == []

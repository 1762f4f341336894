"""The token store on SQLite, and on PostgreSQL at 127.0.0.1:5432 when one is reachable."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from provisioning import migrate, payments
from provisioning.accounts import make_engine
from provisioning.migrate import NotMigrated, open_accounts
from provisioning.tokens import TokenState, TokenStore
from provisioning.wechatpay import Transaction
from tests.helpers import TWILIGHT

PG_URL = os.environ.get("TWILIGHT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres() -> Iterator[Engine]:
    for engine in _postgres_schema():
        migrate.upgrade(engine)
        yield engine


def _postgres_schema() -> Iterator[Engine]:
    """An engine on a fresh, empty schema of the test database (dropped afterwards)."""
    probe = create_engine(PG_URL, connect_args={"connect_timeout": 2})
    try:
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}")
    finally:
        probe.dispose()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = open_accounts(f"sqlite:///{tmp_path / 'accounts.db'}")
        yield engine
        engine.dispose()
    else:
        yield from _postgres()


def test_issue_stores_only_the_hash(engine: Engine) -> None:
    store = TokenStore(engine)
    raw = store.issue("alice")
    assert raw.startswith("td_") and len(raw) > 40
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_sha256, prefix FROM api_keys")).all()
    assert stored == [(hashlib.sha256(raw.encode()).hexdigest(), raw[:7])]
    owner = store.owner(raw)
    assert owner is not None and owner.user == "alice" and owner.state is TokenState.ACTIVE
    assert store.owner(raw + "x") is None


def test_revoke_and_list(engine: Engine) -> None:
    store = TokenStore(engine)
    first, second = store.issue("bob"), store.issue("bob")
    other = store.issue("carol")
    assert store.revoke("bob") == 2 and store.revoke("bob") == 0 and store.revoke("nobody") == 0
    for raw in (first, second):
        owner = store.owner(raw)
        assert owner is not None and owner.state is TokenState.REVOKED
    active = store.owner(other)
    assert active is not None and active.state is TokenState.ACTIVE
    listing = store.listing()
    assert [(k.user, k.revoked_at is not None) for k in listing] == [("bob", True), ("bob", True), ("carol", False)]
    assert all(k.prefix not in (first, second, other) for k in listing)


def test_a_key_read_once_is_known_without_a_query_until_anyone_writes(tmp_path: Path) -> None:
    """The server's store and the CLI's are two engines (two processes in life) on one SQLite file."""
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    server, cli = open_accounts(url), open_accounts(url)
    served, operator = TokenStore(server), TokenStore(cli)
    raw = operator.issue("dora")
    assert served.known_owner(raw) is None  # never read: ask
    assert served.owner(raw) is not None
    statements: list[str] = []
    event.listen(server, "before_cursor_execute", lambda *args: statements.append(args[2]))
    known = served.known_owner(raw)
    assert known is not None and known.user == "dora" and known.state is TokenState.ACTIVE and statements == []
    operator.revoke("dora")  # another process commits: what was read no longer holds
    assert served.known_owner(raw) is None
    owner = served.owner(raw)
    assert owner is not None and owner.state is TokenState.REVOKED
    assert served.known_owner(raw) == owner
    assert served.known_owner(raw + "x") is None and served.owner(raw + "x") is None
    server.dispose()
    cli.dispose()


def test_a_known_subscription_expires_on_time_without_a_write(tmp_path: Path) -> None:
    engine = open_accounts(f"sqlite:///{tmp_path / 'accounts.db'}")
    store = TokenStore(engine)
    raw = store.issue("eve")
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET paid_until = :t WHERE name = 'eve'"), {"t": ends.replace(tzinfo=None)})
    assert store.owner(raw) is not None
    known = store.known_owner(raw)
    assert known is not None and known.state is TokenState.ACTIVE
    time.sleep(max(0.0, (ends - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)
    known = store.known_owner(raw)
    assert known is not None and known.state is TokenState.EXPIRED
    engine.dispose()


def test_postgres_keys_are_read_every_time() -> None:
    for engine in _postgres():
        store = TokenStore(engine)
        raw = store.issue("fay")
        assert store.owner(raw) is not None and store.known_owner(raw) is None  # no change signal: ask


def test_sqlite_file_is_owner_only(tmp_path: Path) -> None:
    make_engine(f"sqlite:///{tmp_path / 'home' / 'accounts.db'}").dispose()
    mode = stat.S_IMODE((tmp_path / "home" / "accounts.db").stat().st_mode)
    assert mode == 0o600


# The issue-2 schema, as `create_all` made it before migrations existed.
LEGACY = [
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(128) NOT NULL UNIQUE, created_at DATETIME NOT NULL)",
    "CREATE TABLE api_keys (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),"
    " token_sha256 VARCHAR(64) NOT NULL UNIQUE, prefix VARCHAR(16) NOT NULL, created_at DATETIME NOT NULL,"
    " revoked_at DATETIME)",
]


def test_sqlite_migrates_itself_and_adopts_a_pre_migration_home(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    legacy = make_engine(url)
    raw = "td_" + "x" * 43
    with legacy.begin() as conn:
        for stmt in LEGACY:
            conn.execute(text(stmt))
        conn.execute(text("INSERT INTO users VALUES (1, 'old-user', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO api_keys VALUES (1, 1, :d, 'td_xxxx', '2026-01-01 00:00:00', NULL)"),
                     {"d": hashlib.sha256(raw.encode()).hexdigest()})  # fmt: skip
    legacy.dispose()
    engine = open_accounts(url)
    assert migrate.current(engine) == migrate.head()
    owner = TokenStore(engine).owner(raw)  # the token issued before the upgrade still works
    assert owner is not None and owner.user == "old-user" and owner.state is TokenState.ACTIVE
    with engine.connect() as conn:
        public_id, limit = conn.execute(text("SELECT u.public_id, k.rate_limit_per_min FROM users u"
                                             " JOIN api_keys k ON k.user_id = u.id")).one()  # fmt: skip
    assert len(public_id) == 32 and limit == 60
    assert migrate.upgrade(engine) == (migrate.head(), migrate.head())  # idempotent
    engine.dispose()


@pytest.fixture
def empty_postgres() -> Iterator[Engine]:
    yield from _postgres_schema()


def test_postgres_refuses_an_unmigrated_database_until_upgraded(empty_postgres: Engine) -> None:
    with pytest.raises(NotMigrated, match="twilight db upgrade"):
        migrate.ready(empty_postgres)
    assert migrate.upgrade(empty_postgres) == (None, migrate.head())
    assert migrate.ready(empty_postgres) is empty_postgres
    with empty_postgres.connect() as conn:
        listed = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
        tables = set(listed.scalars())
    assert {"users", "api_keys", "payments", "processed_notifications", "hermes_profiles", "usage_log"} <= tables


def test_serve_refuses_an_unmigrated_postgres_until_db_upgrade(empty_postgres: Engine, tmp_path: Path) -> None:
    with empty_postgres.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
    env = {**os.environ, "TWILIGHT_HOME": str(tmp_path), "TWILIGHT_SCHEDULE": "false",
           "TWILIGHT_DATABASE_URL": f"{PG_URL}?options=-csearch_path%3D{schema}"}  # fmt: skip

    def twilight(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TWILIGHT, *args], env=env, capture_output=True, text=True, timeout=120)

    refused = twilight("serve", "--port", "9")
    assert refused.returncode == 2 and "run `twilight db upgrade`" in refused.stderr, refused.stderr
    assert twilight("token", "issue", "--user", "x").returncode == 2
    upgraded = twilight("db", "upgrade")
    assert upgraded.returncode == 0 and f"migrated empty -> {migrate.head()}" in upgraded.stdout
    assert "already at" in twilight("db", "upgrade").stdout
    assert twilight("token", "issue", "--user", "x").returncode == 0


def test_concurrent_deliveries_record_one_payment(engine: Engine) -> None:
    """Five threads record the same verified notification at once: one payment, one user."""
    tx = Transaction(
        notification_id="EV-race", event_type="TRANSACTION.SUCCESS", mchid="1900000109", appid="wx1",
        out_trade_no="TD1", transaction_id="4200000000000000000000000001", trade_state="SUCCESS", amount_total=19800,
        currency="CNY", payer_openid="openid-race", success_time=None, attach="pro", raw={"amount": {"total": 19800}},
    )  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    with ThreadPoolExecutor(5) as pool:
        done = list(pool.map(lambda _: payments.record(engine, tx, mch_id="1900000109", prices={"pro": 19800},
                                                        default_plan="pro", now=now), range(5)))  # fmt: skip
    assert sorted(r.first for r in done) == [False] * 4 + [True]
    assert {(r.status, r.user_name) for r in done} == {("paid", done[0].user_name)}
    with engine.connect() as conn:
        counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("payments", "users", "processed_notifications")]  # fmt: skip
    assert counts == [1, 1, 1]

"""The token store on SQLite, and on PostgreSQL at 127.0.0.1:5432 when one is reachable."""

from __future__ import annotations

import hashlib
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from provisioning.accounts import Base, make_engine
from provisioning.tokens import TokenState, TokenStore

PG_URL = os.environ.get("TWILIGHT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres() -> Iterator[Engine]:
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
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
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


def test_sqlite_file_is_owner_only(tmp_path: Path) -> None:
    make_engine(f"sqlite:///{tmp_path / 'home' / 'accounts.db'}").dispose()
    mode = stat.S_IMODE((tmp_path / "home" / "accounts.db").stat().st_mode)
    assert mode == 0o600

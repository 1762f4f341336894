"""Building and checking the accounts schema with Alembic, from code (no alembic.ini to ship).

The embedded SQLite default migrates itself when the server or CLI opens it, so that the
README's two commands keep working. Any other database (PostgreSQL in production) is
migrated only by `twilight db upgrade`, an operator's deliberate step: opening one that is
behind raises NotMigrated, whose message says which command to run.

Importing alembic costs a server about 11 MiB it would keep for nothing once the schema is
checked, so a database already at the shipped head is recognised without it: the revision
stored in `alembic_version` against the one head of the migration files, read as text. Any
other case (behind, ahead, no schema, a history that is not one line) goes through alembic.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from provisioning.accounts import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


class NotMigrated(RuntimeError):
    """The accounts database is behind this release's schema."""


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None  # the package ships its migrations
    return revision


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Apply the migrations up to `revision`; the revisions before and after."""
    from alembic import command

    before = current(engine)
    config = _config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:  # batch migrations copy tables; SQLite checks foreign keys only outside a transaction
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    return before, current(engine) or ""


def shipped_head() -> str | None:
    """The head of the migration files, from their `revision`/`down_revision` lines alone (no
    alembic); None unless they form one line of history."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name, value = node.targets[0].id, node.value
                if name == "revision" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    revisions.add(value.value)
                elif name == "down_revision" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    parents.add(value.value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stored(engine: Engine) -> list[str]:
    """The revisions `alembic_version` holds (none without a schema), read with plain SQL."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return []
        return [str(v) for v in conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()]


def ready(engine: Engine) -> Engine:
    """The engine, once its schema is this release's: SQLite is migrated, others are checked."""
    at_head = shipped_head()
    if at_head is not None and _stored(engine) == [at_head]:
        return engine
    if engine.dialect.name == "sqlite":
        if current(engine) != head():
            upgrade(engine)
        return engine
    at = current(engine)
    if at != head():
        where = engine.url.render_as_string(hide_password=True)
        raise NotMigrated(
            f"the accounts database {where} is at schema {at or 'none'}, this release needs {head()}; "
            "run `twilight db upgrade` (with the same TWILIGHT_DATABASE_URL) first"
        )
    return engine


def open_accounts(url: str) -> Engine:
    """The accounts database at `url`, ready for this release (see `ready`)."""
    return ready(make_engine(url))

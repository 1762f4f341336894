"""Building and checking the accounts schema with Alembic, from code (no alembic.ini to ship).

The embedded SQLite default migrates itself when the server or CLI opens it, so that the
README's two commands keep working. Any other database (PostgreSQL in production) is
migrated only by `twilight db upgrade`, an operator's deliberate step: opening one that is
behind raises NotMigrated, whose message says which command to run.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from provisioning.accounts import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")


class NotMigrated(RuntimeError):
    """The accounts database is behind this release's schema."""


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None  # the package ships its migrations
    return revision


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Apply the migrations up to `revision`; the revisions before and after."""
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


def ready(engine: Engine) -> Engine:
    """The engine, once its schema is this release's: SQLite is migrated, others are checked."""
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

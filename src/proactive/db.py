"""Engines, sessions and schema migrations."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text

from proactive.settings import ROOT

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session, sessionmaker

VERSIONS = ROOT / "migrations" / "versions"
_FIRST_DEFINITION = re.compile(r"^(?:def|async def|class|@)", re.MULTILINE)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine whose errors never quote the statement's parameters (ID numbers, names)."""
    engine = create_engine(url, hide_parameters=True, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB: bulk loads keep their indexes in memory
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker  # not at the top: `proactive runs` needs no ORM

    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision`. On PostgreSQL under a session advisory lock (per schema), so
    several upgrades started at once run one after the other, the later ones finding nothing
    left to do."""
    from alembic import command

    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


_MIGRATION_KEY = "hashtextextended(current_schema() || ' proactive migrations', 0)"


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text(f"SELECT pg_advisory_lock({_MIGRATION_KEY})"))
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text(f"SELECT pg_advisory_unlock({_MIGRATION_KEY})"))
            conn.commit()


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def current_revisions(engine: Engine) -> set[str]:
    """The revisions alembic_version records; empty for a database without a schema. A database
    that cannot be reached raises SQLAlchemy's error."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return set()
        return {
            row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))
        }


def schema_problem(engine: Engine) -> str | None:
    """What keeps the code from using this database (no schema yet, behind the code, migrated
    by a newer version), or None when it is at the migrations' head."""
    current = current_revisions(engine)
    known, heads = code_revisions()
    if current == heads:
        return None
    if not current:
        return "has no schema yet: run `proactive db upgrade`"
    at, needs = ", ".join(sorted(current)), ", ".join(sorted(heads))
    if current <= known:
        return f"is behind the code (at {at}, needs {needs}): run `proactive db upgrade`"
    return f"is at revision {at}, unknown to this code (migrated by a newer version?)"


def code_revisions() -> tuple[set[str], set[str]]:
    """Every revision of migrations/versions and its heads: read with `ast`, or from Alembic
    when a file declares them otherwise."""
    heads = script_heads(VERSIONS)
    if heads:
        return script_revisions(VERSIONS), heads
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(ROOT / "migrations"))
    return {r.revision for r in script.walk_revisions()}, set(script.get_heads())


def script_revisions(versions: Path) -> set[str]:
    """The revisions the files in `versions` declare as plain literals."""
    found = (_literals(path, ("revision",)).get("revision") for path in versions.glob("*.py"))
    return {revision for revision in found if isinstance(revision, str)}


def script_heads(versions: Path) -> set[str]:
    """The revisions no other revision names as its down_revision; empty if any file in
    `versions` does not declare its revisions as plain literals."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in versions.glob("*.py"):
        declared = _literals(path, ("revision", "down_revision"))
        revision, down = declared.get("revision"), _names(declared.get("down_revision"))
        if not isinstance(revision, str) or down is None:
            return set()
        revisions.add(revision)
        downs.update(down)
    return revisions - downs


def _names(down_revision: object) -> tuple[str, ...] | None:
    """A down_revision (None, one name or a tuple of names) as a tuple; None if it is not."""
    if down_revision is None:
        return ()
    if isinstance(down_revision, str):
        return (down_revision,)
    if isinstance(down_revision, tuple) and all(isinstance(n, str) for n in down_revision):
        return down_revision
    return None


def _literals(path: Path, names: tuple[str, ...]) -> dict[str, object]:
    """The literal values a module assigns to `names` at its top level, before its first
    function or class: a migration declares its revisions in its header, and parsing only that
    keeps every command's schema check cheap (whole files: a tenth of a second)."""
    source = path.read_text(encoding="utf-8")
    first = _FIRST_DEFINITION.search(source)
    found: dict[str, object] = {}
    for node in ast.parse(source[: first.start()] if first else source).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and target.id in names and value is not None:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                return {}
    return found

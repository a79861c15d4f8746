"""Migrations from empty to head and back, on every backend, and the schema they build
matching the models."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from proactive import db
from proactive.models import Base
from proactive.settings import ROOT
from tests.conftest import POSTGRES_URL


def test_upgrade_from_empty_matches_the_models(bare_engine: Engine) -> None:
    db.upgrade(bare_engine)
    with bare_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_to_empty_and_back(bare_engine: Engine) -> None:
    db.upgrade(bare_engine)
    db.downgrade(bare_engine, "base")
    assert set(inspect(bare_engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(bare_engine)
    assert "persons" in inspect(bare_engine).get_table_names()


def test_schema_problem_agrees_with_alembic(bare_engine: Engine) -> None:
    """Commands check the schema without Alembic; the shortcut must see what it sees."""
    script = ScriptDirectory.from_config(db.alembic_config(bare_engine))
    assert db.script_heads(db.VERSIONS) == set(script.get_heads())
    assert db.code_revisions() == (
        {r.revision for r in script.walk_revisions()},
        set(script.get_heads()),
    )
    assert db.schema_problem(bare_engine) == "has no schema yet: run `proactive db upgrade`"
    db.upgrade(bare_engine)
    assert db.schema_problem(bare_engine) is None
    previous = script.get_revision(script.get_current_head()).down_revision
    assert isinstance(previous, str)
    db.downgrade(bare_engine, previous)
    problem = db.schema_problem(bare_engine)
    assert problem is not None
    assert problem.startswith(f"is behind the code (at {previous}, needs ")
    assert problem.endswith("run `proactive db upgrade`")
    with bare_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999_from_the_future'"))
    assert db.schema_problem(bare_engine) == (
        "is at revision 0999_from_the_future, unknown to this code (migrated by a newer version?)"
    )


def test_concurrent_upgrades_of_a_fresh_postgresql_database_both_succeed(
    bare_engine: Engine,
) -> None:
    """Two `proactive db upgrade` processes started at once after a deploy: without the
    advisory lock one of them died on alembic_version's primary key or a table created twice."""
    if bare_engine.dialect.name != "postgresql":
        pytest.skip("SQLite: one writer at a time; the lock is PostgreSQL's")
    with bare_engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PROACTIVE_DATABASE_URL": f"{POSTGRES_URL}?options=-csearch_path%3D{schema}",
    }
    command = [sys.executable, "-m", "proactive.cli.main", "db", "upgrade"]
    upgrades = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [(p.wait(), p.communicate()[0].decode()) for p in upgrades]
    assert [code for code, _ in outputs] == [0, 0], outputs
    with bare_engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert len(versions) == 1 and set(versions) == db.script_heads(db.VERSIONS)
    assert all(f"database at head ({versions[0]})" in output for _, output in outputs)


def test_script_heads_reads_merges_and_gives_up_on_what_it_cannot_read(tmp_path: Path) -> None:
    def revision(name: str, down: str) -> None:
        (tmp_path / f"{name}.py").write_text(
            f'"""{name}"""\nrevision: str = "{name}"\ndown_revision = {down}\n', encoding="utf-8"
        )

    revision("a", "None")
    revision("b", '"a"')
    revision("c", '"a"')
    assert db.script_heads(tmp_path) == {"b", "c"}
    revision("d", '("b", "c")')
    assert db.script_heads(tmp_path) == {"d"}
    revision("e", "make_down()")
    assert db.script_heads(tmp_path) == set()
    (tmp_path / "e.py").unlink()
    (tmp_path / "f.py").write_text(  # only the header is read: this one declares too late
        'def upgrade() -> None:\n    pass\n\n\nrevision = "f"\ndown_revision = "d"\n', "utf-8"
    )
    assert db.script_heads(tmp_path) == set()
    (tmp_path / "f.py").write_text(
        'revision = "f"\ndown_revision = "d"\n\n\ndef upgrade() -> None:\n    x = 1\n', "utf-8"
    )
    assert db.script_heads(tmp_path) == {"f"}


def test_age_queries_use_the_birth_date_index(engine: Engine) -> None:
    """'Who reached age N between two dates' is a range over birth_date: an index, no scan."""
    indexed = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("persons")}
    assert ("birth_date",) in indexed
    assert ("changed_run_id",) in indexed
    permit_indexes = {
        tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("residence_permits")
    }
    assert ("birth_date",) in permit_indexes
    query = "SELECT id_number FROM persons WHERE birth_date BETWEEN '1966-11-01' AND '1966-11-25'"
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1]) for row in conn.execute(text("EXPLAIN QUERY PLAN " + query))
            )
            assert "USING INDEX ix_persons_birth_date" in plan
        else:
            conn.execute(text("SET enable_seqscan = off"))
            plan = " ".join(row[0] for row in conn.execute(text("EXPLAIN " + query)))
            assert "ix_persons_birth_date" in plan


def test_a_sqlite_database_in_use_upgrades_though_rows_refer_to_a_recreated_table(
    tmp_path: Path,
) -> None:
    """Batch mode recreates a table (0010: ingest_runs) that loaded_files rows refer to; with
    foreign keys on, dropping the old copy failed and `db upgrade` ended in a traceback."""
    engine = db.make_engine(f"sqlite:///{tmp_path}/in_use.db")
    db.upgrade(engine, "0009")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ingest_runs (id, source, started_at, summary) "
                "VALUES (1, 'x', '2026-11-25 00:00:00', '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO loaded_files (id, run_id, table_name, file, sha256, rows) "
                "VALUES (1, 1, 'persons', 'persons.csv', 'a', 1)"
            )
        )
    db.upgrade(engine)
    with engine.connect() as conn:
        assert db.schema_problem(engine) is None
        assert conn.execute(text("SELECT run_id FROM loaded_files")).scalar_one() == 1
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    engine.dispose()

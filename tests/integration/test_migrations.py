"""Migrations from empty to head and back, on every backend, and the schema they build
matching the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from proactive import db
from proactive.models import Base


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

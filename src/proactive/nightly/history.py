"""The runs table read back (`proactive runs`), with SQLAlchemy Core only: a listing a person
types often answers without loading the ORM and the models, a tenth of a second of every
command. tests/unit/nightly/test_history.py keeps `RUNS` in step with `models.Run`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Engine, Integer, String, Text, column, select, table

from proactive.sqltypes import UTCDateTime
from proactive.time import local_text

COLUMNS = (
    "run_id",
    "as_of",
    "covered_from",
    "status",
    "started_at",
    "finished_at",
    "stats",
    "error",
)
RUNS = table(
    "runs",
    column("id", Integer),
    column("as_of", Date),
    column("covered_from", Date),
    column("status", String),
    column("started_at", UTCDateTime),
    column("finished_at", UTCDateTime),
    column("stats", Text),
    column("error", Text),
)


def list_runs(engine: Engine, latest: int | None = None) -> list[dict[str, Any]]:
    """Every run, oldest first, as records for output.render; or the `latest`, newest first."""
    runs = RUNS.c
    query = select(RUNS).order_by(runs.id)
    if latest is not None:
        query = select(RUNS).order_by(runs.id.desc()).limit(latest)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings()
        return [
            {
                "run_id": r["id"],
                "as_of": r["as_of"].isoformat(),
                "covered_from": r["covered_from"].isoformat(),
                "status": r["status"],
                "started_at": local_text(r["started_at"]),
                "finished_at": local_text(r["finished_at"]),
                "stats": r["stats"],
                "error": r["error"],
            }
            for r in rows
        ]

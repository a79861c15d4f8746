"""`proactive runs` reads the runs table through a Core-only copy of its columns: it must say
what models.Run says, column for column."""

from proactive.models import Run
from proactive.nightly import history


def test_the_core_runs_table_matches_the_model() -> None:
    model = Run.__table__.c
    for name, core in history.RUNS.c.items():
        assert name in model, name
        assert type(core.type) is type(model[name].type), name
    assert set(history.RUNS.c.keys()) == {"id", *(c for c in history.COLUMNS if c != "run_id")}

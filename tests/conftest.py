"""Fixtures shared by the suite: a migrated database on SQLite and, when
PROACTIVE_TEST_POSTGRES_URL is set, on PostgreSQL too (one fresh schema per test)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, make_url, text

from proactive import bootstrap, db
from proactive.accounts import passwords
from proactive.certificates import keys
from proactive.certificates.file_store import DirectoryStore, FileStore, open_store
from proactive.certificates.issuing import Issuer
from proactive.nightly import invariants
from proactive.registry import reader
from tests.factories import make_issuer, migrated_sqlite

POSTGRES_URL = os.environ.get("PROACTIVE_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="PROACTIVE_TEST_POSTGRES_URL is not set")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


def _postgres_engine(schema: str) -> Engine:
    admin = db.make_engine(POSTGRES_URL)
    with admin.begin() as conn:  # a connection failure here fails the test: it never skips
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return db.make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})


def _drop_schema(schema: str) -> None:
    admin = db.make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def bare_engine(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[Engine]:
    """An empty database on each backend."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path}/test.db")
        yield engine
        engine.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = _postgres_engine(schema)
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_schema(schema)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """For tests that run commands (which read PROACTIVE_DATABASE_URL): a function giving each
    name its own database migrated to head on the backend, a SQLite file under tmp_path or a
    fresh PostgreSQL schema named in the URL's search_path; the schemas are dropped after."""
    schemas: list[str] = []

    def url(name: str) -> str:
        if request.param == "sqlite":
            return migrated_sqlite(tmp_path / f"{name}.db")
        schemas.append(f"t_{uuid.uuid4().hex[:12]}")
        engine = _postgres_engine(schemas[-1])
        db.upgrade(engine)
        engine.dispose()
        options = {"options": f"-csearch_path={schemas[-1]}"}
        return make_url(POSTGRES_URL).update_query_dict(options).render_as_string(False)

    yield url
    for schema in schemas:
        _drop_schema(schema)


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """A database migrated to head on each backend."""
    db.upgrade(bare_engine)
    return bare_engine


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    keys.init(tmp_path / "keys")
    return tmp_path / "keys"


@pytest.fixture
def issuer(key_dir: Path, tmp_path: Path) -> Issuer:
    return make_issuer(key_dir, tmp_path)


# The moment every test runs at: the commands read the wall clock only through
# bootstrap.utc_now, so pinning it makes the suite independent of the day and hour it runs.
PINNED_NOW = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


# Chromium's flags for tests: headless, and no calls home (without the networking flags it
# keeps dialling out and stalls on this closed network).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
FAKED_TIME = ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC", "DYLD_INSERT_LIBRARIES")


def browser_env() -> dict[str, str]:
    """The environment for a browser the tests start: real time, even when the suite runs
    under libfaketime (Chromium stalls on a faked clock; what it shows does not depend on it)."""
    return {k: v for k, v in os.environ.items() if k not in FAKED_TIME}


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap, "utc_now", lambda: PINNED_NOW)


INGEST_CHUNK_ROWS = os.environ.get("PROACTIVE_TEST_INGEST_CHUNK_ROWS", "")


@pytest.fixture(autouse=True)
def _ingest_chunk_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """PROACTIVE_TEST_INGEST_CHUNK_ROWS=3 reads every extract 3 rows at a time (in-process
    ingests only), so the suite's files straddle chunk boundaries."""
    if INGEST_CHUNK_ROWS:
        monkeypatch.setattr(reader, "CHUNK_ROWS", int(INGEST_CHUNK_ROWS))


@pytest.fixture(autouse=True)
def _logs_reach_caplog() -> Iterator[None]:
    """CLI commands configure the `proactive` logger (own handler, no propagation); put it
    back after each test, so caplog sees every record in the tests that follow."""
    yield
    logger = logging.getLogger("proactive")
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with cheap parameters: the production cost (about half a second here) would make
    every sign-in slow and proves nothing more."""
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def invariants_after(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a scenario test, the invariants of `proactive doctor` hold on its database and
    certificate files (the `engine` fixture with files under tmp_path/pdf, or a CLI test's
    `env`). Used by the nightly, dispatch, certificates and CLI tests."""
    target = _scenario_target(request)
    yield
    if target is None or request.node.get_closest_marker("invariants_broken"):
        return
    engine, store = target
    with engine.connect() as conn:
        found = invariants.check_all(conn, store)
    if engine is not request.node.funcargs.get("engine"):
        engine.dispose()
    assert not found, "invariants broken:\n" + "\n".join(v.line() for v in found)


def _scenario_target(request: pytest.FixtureRequest) -> tuple[Engine, FileStore] | None:
    """The database and certificate store a scenario used: its `store` fixture or the
    directory tmp_path/pdf with its `engine`; what its `env` names for a CLI test."""
    tmp = Path(request.getfixturevalue("tmp_path"))
    if "engine" in request.fixturenames:
        store = request.getfixturevalue("store") if "store" in request.fixturenames else None
        return request.getfixturevalue("engine"), store or DirectoryStore(tmp / "pdf")
    if "env" in request.fixturenames:
        env = request.getfixturevalue("env")
        url = env.get("PROACTIVE_DATABASE_URL")
        if url:
            where = env.get("PROACTIVE_CERTIFICATE_DIR", str(tmp / "pdf"))
            return db.make_engine(url), open_store(where, env.get("PROACTIVE_S3_ENDPOINT_URL", ""))
    return None

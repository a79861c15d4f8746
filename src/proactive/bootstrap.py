"""The composition root: settings in, engine, clock and options out.

Adapters are built on demand: each function imports what it builds, so a command pays only for
the libraries it uses (`proactive --help` imports none of them).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from proactive.errors import ProactiveError
from proactive.settings import ROOT, Settings, SettingsError, safe_url

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from proactive.certificates.file_store import FileStore
    from proactive.certificates.issuing import Issuer, IssuingPass
    from proactive.field.plan_visits import Dispatcher
    from proactive.nightly.run import RunOptions, RunReport
    from proactive.programs.catalog import Program
    from proactive.progress import Progress
    from proactive.sms.outbox import Composer
    from proactive.time import Clock

JOBS = ROOT / "jobs"


def utc_now() -> dt.datetime:
    """The wall clock (aware UTC): the one place the project reads it; tests pin it here."""
    return dt.datetime.now(dt.UTC)


def today_shanghai() -> dt.date:
    from proactive.time import local_date

    return local_date(utc_now())


class DatabaseUnreachable(ProactiveError):
    """Cannot reach the database"""


class SchemaNotReady(ProactiveError):
    """The database does not match this version of proactive"""


class SchemaIncomplete(ProactiveError):
    """The database's schema is incomplete"""


MISSING = (  # what SQLite and PostgreSQL say of a table or column that is not there
    re.compile(r"no such (?P<kind>table|column): (?P<name>[\w.]+)"),
    re.compile(r'(?P<kind>relation|column) "?(?P<name>[\w.]+)"? does not exist'),
)


def schema_damage(error: BaseException) -> SchemaIncomplete | None:
    """What a query that failed on a missing table or column says to the user: the database is
    marked as migrated (commands check that first), so its schema was changed by other means,
    e.g. by hand or by a migration run without a transaction and killed half-way."""
    if "sqlalchemy.exc" not in sys.modules:  # then no query ran
        return None
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return None
    said = str(error.orig)
    found = next((m for m in (p.search(said) for p in MISSING) if m), None)
    if found is None:
        return None
    kind = "table" if found["kind"] == "relation" else found["kind"]
    return SchemaIncomplete(
        f"{kind} {found['name']} is missing, yet the database is marked as migrated: it was "
        "changed outside `proactive db upgrade`; restore it from a backup"
    )


def engine(settings: Settings) -> Engine:
    """The database engine, refused (SchemaNotReady, naming `proactive db upgrade`) unless the
    database is at the migrations' head; DatabaseUnreachable (naming the URL without its
    password) if it cannot be reached. Only `proactive db upgrade` migrates."""
    from proactive import db

    return _connected(settings, lambda e: _missing_sqlite_file(e) or db.schema_problem(e))


def upgraded_engine(settings: Settings) -> Engine:
    """The database engine after migrating it to head (`proactive db upgrade`, the demo)."""
    from proactive import db

    def migrate(built: Engine) -> str | None:
        from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

        try:
            db.upgrade(built)
        except ProgrammingError as error:  # e.g. a role without DDL rights
            cause = str(error.orig).strip().splitlines()
            return f"could not be migrated ({cause[0] if cause else type(error.orig).__name__})"
        except (OperationalError, InterfaceError):
            raise  # unreachable: said as such by _connected
        return None

    return _connected(settings, migrate)


_ENGINES: list[Engine] = []  # built by _connected(), closed by close_engines()


def close_engines() -> None:
    """Close the connections of every engine built so far: the command line calls it when a
    command ends, so a command run in-process (the tests) leaves no connection to the garbage
    collector."""
    while _ENGINES:
        _ENGINES.pop().dispose()


def _connected(settings: Settings, prepare: Callable[[Engine], str | None]) -> Engine:
    from sqlalchemy.exc import InterfaceError, OperationalError

    from proactive import db, logs

    logs.configure(settings.log_level)
    url = safe_url(settings.database_url)
    built = db.make_engine(settings.database_url)
    _ENGINES.append(built)
    try:
        problem = prepare(built)
    except (OperationalError, InterfaceError) as error:
        built.dispose()
        cause = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
        raise DatabaseUnreachable(f"{url} ({cause})") from None
    if problem:
        built.dispose()
        raise SchemaNotReady(f"{url} {problem}")
    return built


def _missing_sqlite_file(built: Engine) -> str | None:
    """A SQLite file that does not exist is refused before connecting (which would create it)."""
    name = built.url.database
    if built.dialect.name != "sqlite" or not name or name == ":memory:":
        return None
    if Path(name).exists() or not Path(name).parent.is_dir():  # the latter: unreachable
        return None
    return "does not exist: run `proactive db upgrade` to create it"


def column_map(settings: Settings) -> Mapping[str, Mapping[str, str]]:
    """{'persons': {'身份证号': 'id_number', ...}, ...} from PROACTIVE_COLUMN_MAP, if set; a
    SettingsError if the file is missing or is not TOML tables of column names."""
    if not settings.column_map:
        return {}
    import tomllib

    path = Path(settings.column_map)
    where = f"PROACTIVE_COLUMN_MAP={str(path)!r}"
    try:
        with path.open("rb") as handle:
            loaded = tomllib.load(handle)
    except OSError as error:
        raise SettingsError(f"{where}: {error.strerror or 'cannot be read'}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(f"{where}: not TOML ({error})") from None
    for table, names in loaded.items():
        if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
            raise SettingsError(
                f'{where}: expected [{table}] as a table of names, e.g. 身份证号 = "id_number"'
            )
    return loaded


def programs() -> dict[str, Program]:
    from proactive.programs.catalog import load_catalog

    return load_catalog(JOBS)


def issuer(settings: Settings) -> Issuer:
    """Signing key, renderer and file store for issuing; fails clearly without a key."""
    from proactive.certificates import keys
    from proactive.certificates.issuing import Issuer
    from proactive.certificates.render import DEFAULT_FONT, Font, Renderer

    font = Font.load(DEFAULT_FONT)
    return Issuer(
        district=settings.district_code,
        key=keys.signing_key(Path(settings.key_dir)),
        renderer=Renderer(ROOT / "templates", font),
        glyphs=font,
        store=file_store(settings),
    )


def file_store(settings: Settings) -> FileStore:
    """Where certificate PDFs go: a directory, or S3-compatible object storage."""
    from proactive.certificates.file_store import open_store

    return open_store(settings.certificate_dir, settings.s3_endpoint_url)


class SeveralProcessesNeedPostgres(ProactiveError):
    """Several processes need PostgreSQL (SQLite lets one writer at a time)"""


def issue_now(
    settings: Settings, issue: IssuingPass, processes: int = 1, progress: Progress | None = None
) -> Counter[str]:
    """Issue the certificates of every approved case (and finish pending ones) in `processes`
    processes on this machine; other machines may run the same at once on PostgreSQL, each
    claiming its own batches. Progress is shown for one process only."""
    if processes == 1:
        return _issue_here(settings, issue, progress)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from sqlalchemy.engine import make_url

    if make_url(settings.database_url).get_backend_name() != "postgresql":
        raise SeveralProcessesNeedPostgres(
            f"--processes {processes} with {safe_url(settings.database_url)}"
        )
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        parts = list(pool.map(_issue_here, [settings] * processes, [issue] * processes))
    return sum(parts, Counter[str]())


def _issue_here(
    settings: Settings, issue: IssuingPass, progress: Progress | None = None
) -> Counter[str]:
    from proactive.certificates.issuing import issue_certificates
    from proactive.progress import SILENT

    built = engine(settings)
    try:
        return issue_certificates(built, programs(), issuer(settings), issue, progress or SILENT)
    finally:
        built.dispose()


def dispatcher(settings: Settings) -> Dispatcher:
    from proactive.field.plan_visits import Dispatcher
    from proactive.field.workdays import ChinaCalendar, load_holidays
    from proactive.geo import Walking

    walking = Walking(
        detour=float(settings.detour_factor),
        speed_kmh=float(settings.walking_speed_kmh),
        circle_minutes=float(settings.circle_minutes),
    )
    calendar = ChinaCalendar(load_holidays(JOBS / "holidays.toml"))
    return Dispatcher(walking, calendar, composer(settings))


def composer(settings: Settings) -> Composer:
    from proactive.sms.outbox import Composer

    return Composer.from_directory(str(ROOT / "templates"), settings.hotline, settings.quiet_hours)


def run_options(
    settings: Settings,
    as_of: dt.date,
    dry_run: bool = False,
    extract: Path | None = None,
    once_a_night: bool = False,
    delta: bool = False,
) -> RunOptions:
    """One night as `proactive run` and `proactive schedule` both run it: the extract given,
    else the configured one (PROACTIVE_EXTRACT_DIR), ingested first."""
    from proactive.nightly.run import RunOptions
    from proactive.registry.ingest import IngestOptions

    configured = Path(settings.extract_dir) if settings.extract_dir else None
    return RunOptions(
        as_of=as_of,
        dry_run=dry_run,
        extract=extract or configured,
        ingest=IngestOptions(column_map=column_map(settings), delta=delta),
        once_a_night=once_a_night,
    )


def run_night(
    settings: Settings,
    engine: Engine,
    options: RunOptions,
    clock: Clock,
    progress: Progress | None = None,
) -> RunReport:
    """The whole night: ingest, cancel, revoke, detect, verify, issue, dispatch, queue SMS."""
    from proactive.nightly.run import run_nightly
    from proactive.progress import SILENT

    return run_nightly(
        engine,
        programs(),
        options,
        clock,
        settings.district_code,
        None if options.dry_run else issuer(settings),
        None if options.dry_run else dispatcher(settings),
        progress or SILENT,
    )


def scheduled_night(settings: Settings, engine: Engine, clock: Clock) -> Callable[[], RunReport]:
    """The scheduler's job: the night the clock is in (Asia/Shanghai), at most once."""

    from proactive.time import local_date

    def job() -> RunReport:
        options = run_options(settings, local_date(clock()), once_a_night=True)
        return run_night(settings, engine, options, clock)

    return job

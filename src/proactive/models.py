"""The database schema: SQLAlchemy 2.x typed models on one `Base`.

Registry tables mirror the extract files. Each registry row keeps the hash of the raw row it
came from (`row_hash`: an unchanged row is never rewritten) and which ingest run last changed
it and which columns (`changed_run_id`, `changed_fields`; '*' for a new row), so later stages
find what changed through an index instead of scanning the registry.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from proactive.sqltypes import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IngestRun(Base):
    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text, default="{}")  # JSON: counts per file
    # 1, 2, 3... in the order the ingests committed (ids are in the order they started): the
    # nightly run's watermark, so an ingest committing after a later-started one is not missed
    commit_seq: Mapped[int | None] = mapped_column(Integer, unique=True)


class LoadedFile(Base):
    """The fingerprint of every extract file loaded: a file identical to the last one loaded
    into its table is skipped whole."""

    __tablename__ = "loaded_files"
    __table_args__ = (Index("ix_loaded_files_table_id", "table_name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"))
    table_name: Mapped[str] = mapped_column(String(64))
    file: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    # when the file was extracted (its modification time); an older file is refused
    extracted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Tracked:
    """Change tracking shared by the registry tables."""

    row_hash: Mapped[int] = mapped_column(BigInteger)
    changed_run_id: Mapped[int] = mapped_column(Integer, index=True)
    changed_fields: Mapped[str] = mapped_column(Text, default="*")


class Person(Tracked, Base):
    """The household register (户籍)."""

    __tablename__ = "persons"

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[dt.date] = mapped_column(Date, index=True)
    household_id: Mapped[str] = mapped_column(String(64), index=True)
    hukou_status: Mapped[str] = mapped_column(String(16))
    death_date: Mapped[dt.date | None] = mapped_column(Date)
    mobile: Mapped[str | None] = mapped_column(String(20))
    source_updated_at: Mapped[dt.datetime] = mapped_column(DateTime)  # Asia/Shanghai local
    review_flags: Mapped[str] = mapped_column(Text, default="")


class Household(Tracked, Base):
    __tablename__ = "households"

    household_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(Text)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class ResidencePermit(Tracked, Base):
    """Residents without local hukou who hold a residence permit (居住证)."""

    __tablename__ = "residence_permits"

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[dt.date] = mapped_column(Date, index=True)
    address: Mapped[str] = mapped_column(Text)
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    mobile: Mapped[str | None] = mapped_column(String(20))
    source_updated_at: Mapped[dt.datetime] = mapped_column(DateTime)  # Asia/Shanghai local
    review_flags: Mapped[str] = mapped_column(Text, default="")


class WindowCertificate(Tracked, Base):
    """Certificates already issued at a service window (certificates_issued.csv)."""

    __tablename__ = "window_certificates"
    __table_args__ = (Index("ix_window_certificates_person_program", "id_number", "program"),)

    certificate_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))
    program: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[dt.date] = mapped_column(Date)


class Site(Tracked, Base):
    """A service point of the 15-minute circle."""

    __tablename__ = "sites"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    division_code: Mapped[str] = mapped_column(String(12), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    daily_capacity: Mapped[int] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(32), default="")  # printed in residents' SMS


class SocialWorker(Tracked, Base):
    __tablename__ = "social_workers"

    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.site_id"), index=True)
    mobile: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean)
    role: Mapped[str] = mapped_column(String(16), default="worker")
    daily_capacity: Mapped[int] = mapped_column(Integer, default=8)  # visits a day


class RowIssue(Base):
    """A problem found in an extract row: `rejected` rows are the quarantine, `warning`s were
    loaded with a field dropped or a flag for review."""

    __tablename__ = "row_issues"
    __table_args__ = (Index("ix_row_issues_run_severity", "run_id", "severity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"))
    file: Mapped[str] = mapped_column(String(255))
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(64))
    reason_zh: Mapped[str] = mapped_column(Text)
    reason_en: Mapped[str] = mapped_column(Text)
    record_key: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)  # JSON of the raw row, for rejected rows


REGISTRY_MODELS: dict[str, type[Tracked]] = {
    "persons": Person,
    "households": Household,
    "residence_permits": ResidencePermit,
    "window_certificates": WindowCertificate,
    "sites": Site,
    "social_workers": SocialWorker,
}


class Case(Base):
    """One person's case in one program: at most one, ever (the unique key is what makes
    detection exactly-once)."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("id_number", "program", name="uq_cases_person_program"),
        Index("ix_cases_status_program", "status", "program"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18))
    program: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    eligible_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")  # of the latest transition
    checks: Mapped[str] = mapped_column(Text, default="[]")  # JSON: verification results
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))  # the run that opened it
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CaseEvent(Base):
    """The append-only audit log of case transitions (triggers refuse updates and deletes)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))  # "run:12" or "user:王芳"
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")


class Run(Base):
    """A nightly run: what it covered, what each stage did, how it ended."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    covered_from: Mapped[dt.date] = mapped_column(Date)
    # running | succeeded | failed | interrupted (its process died; closed by the next run)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # the highest ingest_runs.commit_seq this run saw: later runs read the changes of the
    # ingests committed after it
    ingest_watermark: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[str] = mapped_column(Text, default="{}")  # JSON: per-stage counts, seconds
    error: Mapped[str] = mapped_column(Text, default="")


class RunLock(Base):
    """At most one row per lock name: the holder of the nightly run on SQLite (host:pid:token).
    PostgreSQL uses a session advisory lock instead (nightly/lock.py)."""

    __tablename__ = "run_locks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CertificateCounter(Base):
    """The last serial number issued per program and year: the row lock on it is what keeps
    numbers unique and gap-free when two runs issue at once."""

    __tablename__ = "certificate_counters"

    program: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)


class Certificate(Base):
    """A numbered certificate. `pending` holds a number whose PDF is not yet rendered (the
    retry reuses it); `active` is rendered and handed to delivery; `revoked` is void. A case
    gets edition 1, and one more per reissue: the unique (case, edition) key makes issuing
    exactly-once."""

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("program", "year", "serial", name="uq_certificates_program_year_serial"),
        UniqueConstraint("case_id", "edition", name="uq_certificates_case_edition"),
        Index("ix_certificates_status_program", "status", "program"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_no: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    edition: Mapped[int] = mapped_column(Integer)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    program: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    issuing_office: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text, default="")  # the signed QR text (public)
    kid: Mapped[str] = mapped_column(String(16), default="")  # the signing key's id
    pdf_path: Mapped[str] = mapped_column(Text, default="")
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(String(32), default="")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Task(Base):
    """One visit to one home on one day by one worker: a certificate delivery or a home visit.
    `attempt` numbers a case's tasks (a failed or re-dispatched one is followed by the next); the
    unique (case, attempt) key keeps a re-run from planning a visit twice."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("case_id", "attempt", name="uq_tasks_case_attempt"),
        Index("ix_tasks_day_worker", "day", "worker_id"),
        Index("ix_tasks_status_day", "status", "day"),
        Index("ix_tasks_site_status_day", "site_id", "status", "day"),  # a site's dashboard
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # delivery | visit
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    program: Mapped[str] = mapped_column(String(64))
    certificate_no: Mapped[str] = mapped_column(String(64), default="")
    site_id: Mapped[str] = mapped_column(String(64))
    worker_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[dt.date] = mapped_column(Date)
    stop: Mapped[int] = mapped_column(Integer, default=0)
    window: Mapped[str] = mapped_column(String(16), default="")  # 09:00–10:00
    status: Mapped[str] = mapped_column(String(16))  # planned | done | failed | withdrawn
    outside_circle: Mapped[bool] = mapped_column(Boolean, default=False)
    located: Mapped[bool] = mapped_column(Boolean, default=True)  # the home has coordinates
    assigned_by: Mapped[str] = mapped_column(String(16), default="circle")  # how chosen
    travel_minutes: Mapped[float] = mapped_column(Float, default=0.0)  # site to home
    due_on: Mapped[dt.date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(8))  # the confirmation code the resident is sent
    outcome: Mapped[str] = mapped_column(String(32), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Route(Base):
    """A worker's walk on a day. One per worker and day: the unique key means a re-run updates
    the route instead of making a second one."""

    __tablename__ = "routes"
    __table_args__ = (UniqueConstraint("worker_id", "day", name="uq_routes_worker_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[dt.date] = mapped_column(Date)
    stops: Mapped[int] = mapped_column(Integer)
    metres: Mapped[float] = mapped_column(Float)
    minutes: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Message(Base):
    """The SMS outbox. A row is written in the same transaction as the change that causes it;
    the idempotency key (case, kind, attempt) keeps a re-run from queuing it twice. Status:
    queued -> sending -> sent -> delivered | undelivered | failed, or withdrawn."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_status_not_before", "status", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    kind: Mapped[str] = mapped_column(String(32))  # issued | scheduled | reminder | ...
    template: Mapped[str] = mapped_column(String(128))
    to_number: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    addressee: Mapped[str] = mapped_column(String(16))  # self | family
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # provider calls made
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # marked sending
    provider_sid: Mapped[str] = mapped_column(String(64), default="", index=True)
    error_code: Mapped[str] = mapped_column(String(16), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OptOut(Base):
    """Numbers that asked for no more messages (by SMS, the hotline or at a site)."""

    __tablename__ = "opt_outs"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)  # E.164
    source: Mapped[str] = mapped_column(String(16))  # sms | hotline | site | provider
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class User(Base):
    """A person who signs in to the field app: a social worker, a site supervisor or district
    staff (admin). The password is an argon2 hash; a new or reset account has a one-time setup
    code (hashed too) until its owner chooses a password."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # worker | supervisor | admin
    worker_id: Mapped[str] = mapped_column(String(64), default="")  # a worker's social_workers row
    site_id: Mapped[str] = mapped_column(String(64), default="")  # a worker's or supervisor's site
    password_hash: Mapped[str] = mapped_column(Text, default="")
    setup_code_hash: Mapped[str] = mapped_column(String(64), default="")
    setup_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class UserSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's token is stored; the CSRF token
    every form of the session carries is kept with it."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """Every sign-in attempt, by the name typed (known or not): the lockout counts these."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_name_id", "name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(String(16))  # ok | bad_password | locked | ...


class AuditEntry(Base):
    """What a person did in the app or at the terminal: who, when, what, on which record."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(128))  # "user:wangfang" or "cli"
    action: Mapped[str] = mapped_column(String(32))  # login | reveal_phone | outcome | ...
    target: Mapped[str] = mapped_column(String(64), default="")  # "task:12", "user:3"
    detail: Mapped[str] = mapped_column(Text, default="")


class OutcomeReport(Base):
    """A visit's outcome as a worker sent it from the app, under the key her browser made for
    it: a resend (lost answer, double tap, offline queue replayed) finds the row and gets the
    same receipt, and nothing is applied twice. Refused reports (wrong code, conflict) stay."""

    __tablename__ = "outcome_reports"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    task_id: Mapped[int] = mapped_column(Integer, index=True)  # as sent: it may not exist
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # on the phone
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(String(16))  # applied | wrong_code | locked | conflict
    message: Mapped[str] = mapped_column(Text, default="")  # what the worker was told


class SendRate(Base):
    """The token bucket every SMS worker draws from, so PROACTIVE_SMS_RATE holds for all of
    them together: `tokens` left at `at` (refilled at the rate as time passes)."""

    __tablename__ = "sms_send_rate"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

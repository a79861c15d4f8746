"""What must hold between two nights, checked over the database and the certificate files.

- every case is terminal, or waits in a queue that a run (or the review queue) picks up, or
  is `scheduled` with exactly one live (planned) task; no other case has a live task;
- every active certificate's PDF exists and is the file whose hash and QR payload were stored;
- no orphan file under the certificate directory: each PDF belongs to a certificate row (a
  `pending` row's file is the one its next run rewrites), and no temporary file is left;
- every queued visit notice or reminder belongs to a live task;
- every planned delivery carries its case's active certificate.

`proactive doctor` runs these on a live database; the test suite runs them after every scenario.
Reads only; ID numbers are masked in what it reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import Connection, and_, func, select

from proactive.certificates import numbering, signing
from proactive.certificates.file_store import TEMPORARY_SUFFIX, FileStore
from proactive.field.task_states import PLANNED
from proactive.masking import mask_id
from proactive.models import Case, Certificate, Message, Task
from proactive.programs import case_states
from proactive.sms import message_states

TERMINAL = frozenset({case_states.DELIVERED, case_states.CLOSED, case_states.CANCELLED})
QUEUED = frozenset(
    {  # detect/verify, the review queue, issuing, dispatch
        case_states.DETECTED,
        case_states.NEEDS_REVIEW,
        case_states.APPROVED,
        case_states.ISSUED,
    }
)


@dataclass(frozen=True)
class Violation:
    check: str  # cases | certificates | files | messages
    subject: str  # what it is about, masked
    problem: str

    def line(self) -> str:
        return f"{self.check}: {self.subject}: {self.problem}"


def check_all(conn: Connection, store: FileStore) -> list[Violation]:
    return [
        *check_cases(conn),
        *check_certificates(conn, store),
        *check_files(conn, store),
        *check_messages(conn),
        *check_deliveries(conn),
    ]


def check_cases(conn: Connection) -> Iterator[Violation]:
    live = func.count(Task.id)
    rows = conn.execute(
        select(Case.id, Case.status, Case.id_number, live)
        .join(Task, and_(Task.case_id == Case.id, Task.status == PLANNED), isouter=True)
        .group_by(Case.id, Case.status, Case.id_number)
        .order_by(Case.id)
    )
    for case_id, status, id_number, planned in rows:
        problem = case_problem(status, planned)
        if problem:
            yield Violation("cases", f"case {case_id} ({mask_id(id_number)})", problem)


def case_problem(status: str, planned: int) -> str:
    """Empty when a case in `status` with `planned` live tasks is in order."""
    if status == case_states.SCHEDULED:
        return "" if planned == 1 else f"scheduled with {planned} live tasks (expected 1)"
    if status not in TERMINAL | QUEUED:
        return f"unknown status {status}"
    return f"{status} but {planned} live task(s)" if planned else ""


def check_certificates(conn: Connection, store: FileStore) -> Iterator[Violation]:
    rows = conn.execute(
        select(
            Certificate.certificate_no,
            Certificate.pdf_path,
            Certificate.pdf_sha256,
            Certificate.payload,
        )
        .where(Certificate.status == numbering.ACTIVE)
        .order_by(Certificate.id)
    )
    for number, path, sha256, payload in rows:
        problem = certificate_problem(
            number, path, store.read(path) if path else None, sha256, payload
        )
        if problem:
            yield Violation("certificates", number, problem)


def certificate_problem(
    number: str, path: str | None, pdf: bytes | None, sha256: str, payload: str
) -> str:
    if pdf is None:
        return f"PDF missing ({path})"
    if hashlib.sha256(pdf).hexdigest() != sha256:
        return f"PDF {path} differs from the one issued (SHA-256)"
    if signing.certificate_number(payload) != number:
        return "stored QR payload does not name this certificate"
    return ""


def check_files(conn: Connection, store: FileStore) -> Iterator[Violation]:
    recorded = set(conn.execute(select(Certificate.pdf_path)).scalars())
    numbers = set(conn.execute(select(Certificate.certificate_no)).scalars())
    for location in store.locations():
        if location.endswith(TEMPORARY_SUFFIX):
            yield Violation("files", location, "temporary file left by an interrupted write")
        elif location not in recorded and PurePosixPath(location).stem not in numbers:
            yield Violation("files", location, "orphan PDF: no certificate has this number")


def check_messages(conn: Connection) -> Iterator[Violation]:
    rows = conn.execute(
        select(Message.id, Message.kind, Task.id, Task.status)
        .join(Task, Task.id == Message.task_id)
        .where(Message.status == message_states.QUEUED, Task.status != PLANNED)
        .order_by(Message.id)
    )
    for message_id, kind, task_id, status in rows:
        yield Violation(
            "messages", f"message {message_id} ({kind})", f"queued for task {task_id}, {status}"
        )


def check_deliveries(conn: Connection) -> Iterator[Violation]:
    active = (
        select(Certificate.certificate_no)
        .where(Certificate.case_id == Task.case_id, Certificate.status == numbering.ACTIVE)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(Task.id, Task.certificate_no, active)
        .where(Task.status == PLANNED, Task.kind == "delivery")
        .order_by(Task.id)
    )
    for task_id, carried, current in rows:
        if carried != current:
            yield Violation(
                "tasks",
                f"task {task_id}",
                f"delivers {carried or '-'}, the active one is {current}",
            )

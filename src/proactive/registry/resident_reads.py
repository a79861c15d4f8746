"""Residents read from the registry tables, as `Resident` values, in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from proactive.batching import chunks
from proactive.geo import Point
from proactive.models import Household, Person, ResidencePermit, WindowCertificate
from proactive.registry.resident import HukouRecord, PermitRecord, Resident


def load_residents(conn: Connection, id_numbers: Iterable[str]) -> dict[str, Resident]:
    ids = sorted(set(id_numbers))
    hukou: dict[str, tuple[HukouRecord, str | None, str]] = {}
    permits: dict[str, tuple[PermitRecord, str | None]] = {}
    windows: dict[str, set[str]] = defaultdict(set)
    for chunk in chunks(ids):
        person_rows = conn.execute(
            select(
                Person.id_number,
                Person.name,
                Person.sex,
                Person.birth_date,
                Person.hukou_status,
                Person.death_date,
                Household.division_code,
                Person.mobile,
                Person.household_id,
            )
            .join(Household, Household.household_id == Person.household_id, isouter=True)
            .where(Person.id_number.in_(chunk))
        )
        for row in person_rows:
            record = HukouRecord(
                row.name,
                row.sex,
                row.birth_date,
                row.hukou_status,
                row.death_date,
                row.division_code,
            )
            hukou[row.id_number] = (record, row.mobile, row.household_id)
        permit_rows = conn.execute(
            select(
                ResidencePermit.id_number,
                ResidencePermit.name,
                ResidencePermit.sex,
                ResidencePermit.birth_date,
                ResidencePermit.division_code,
                ResidencePermit.valid_from,
                ResidencePermit.valid_to,
                ResidencePermit.mobile,
            ).where(ResidencePermit.id_number.in_(chunk))
        )
        for permit_row in permit_rows:
            permit = PermitRecord(
                permit_row.name,
                permit_row.sex,
                permit_row.birth_date,
                permit_row.division_code,
                permit_row.valid_from,
                permit_row.valid_to,
            )
            permits[permit_row.id_number] = (permit, permit_row.mobile)
        certificates = conn.execute(
            select(WindowCertificate.id_number, WindowCertificate.program).where(
                WindowCertificate.id_number.in_(chunk)
            )
        )
        for id_number, program in certificates:
            windows[id_number].add(program)
    members = _household_mobiles(conn, sorted({h for _, _, h in hukou.values()}))
    residents: dict[str, Resident] = {}
    for id_number in ids:
        h = hukou.get(id_number)
        p = permits.get(id_number)
        if h is None and p is None:
            continue
        mobile = (h[1] if h else None) or (p[1] if p else None)
        family = tuple(m for who, m in members.get(h[2], ()) if who != id_number) if h else ()
        residents[id_number] = Resident(
            id_number,
            hukou=h[0] if h else None,
            permit=p[0] if p else None,
            mobile=mobile,
            household_mobiles=family,
            window_programs=frozenset(windows.get(id_number, ())),
        )
    return residents


def _household_mobiles(
    conn: Connection, households: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """Per household, its living members' mobiles, eldest first."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for chunk in chunks(households):
        rows = conn.execute(
            select(Person.household_id, Person.id_number, Person.mobile)
            .where(
                Person.household_id.in_(chunk),
                Person.mobile.is_not(None),
                Person.hukou_status != "deceased",
            )
            .order_by(Person.household_id, Person.birth_date)
        )
        for household, id_number, mobile in rows:
            if mobile:
                out[household].append((id_number, mobile))
    return out


@dataclass(frozen=True)
class Home:
    address: str
    division_code: str
    point: Point | None


def homes(conn: Connection, id_numbers: Sequence[str]) -> dict[str, Home]:
    """Where each person lives: the hukou household, else the residence permit's address."""
    found: dict[str, Home] = {}
    for chunk in chunks(sorted(set(id_numbers))):
        permits = select(
            ResidencePermit.id_number,
            ResidencePermit.address,
            ResidencePermit.division_code,
            ResidencePermit.lat,
            ResidencePermit.lon,
        ).where(ResidencePermit.id_number.in_(chunk))
        households = (
            select(
                Person.id_number,
                Household.address,
                Household.division_code,
                Household.lat,
                Household.lon,
            )
            .join(Household, Household.household_id == Person.household_id)
            .where(Person.id_number.in_(chunk))
        )
        for query in (permits, households):  # the household wins when both exist
            for id_number, address, code, lat, lon in conn.execute(query):
                point = Point(lat, lon) if lat is not None and lon is not None else None
                found[id_number] = Home(address, code, point)
    return found


def home_addresses(conn: Connection, id_numbers: Sequence[str]) -> dict[str, str]:
    return {k: home.address for k, home in homes(conn, id_numbers).items()}


def changed_people(conn: Connection, since_ingest: int) -> list[str]:
    """Everyone whose registry rows changed in ingest runs after `since_ingest`."""
    moved = select(Household.household_id).where(Household.changed_run_id > since_ingest)
    changed: set[str] = set()
    for query in (
        select(Person.id_number).where(Person.changed_run_id > since_ingest),
        select(ResidencePermit.id_number).where(ResidencePermit.changed_run_id > since_ingest),
        select(WindowCertificate.id_number).where(WindowCertificate.changed_run_id > since_ingest),
        select(Person.id_number).where(Person.household_id.in_(moved)),
    ):
        changed.update(conn.execute(query).scalars())
    return sorted(changed)

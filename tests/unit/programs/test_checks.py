import dataclasses
import datetime as dt

import pytest

from proactive.programs import case_states
from proactive.programs.catalog import load_catalog
from proactive.programs.checks import CHECKS, verify
from proactive.programs.eligibility import assess
from proactive.registry.resident import HukouRecord, PermitRecord, Resident
from proactive.settings import ROOT
from tests.factories import make_id

DAY = dt.date(2026, 11, 25)
DISTRICT = "330108"
ID = make_id(birth="19661125", order=123)  # male
HUKOU = HukouRecord("王芳", "M", dt.date(1966, 11, 25), "active", None, "330108002001")
PERMIT = PermitRecord(
    "王芳", "M", dt.date(1966, 11, 25), "330108003001", dt.date(2025, 1, 1), dt.date(2027, 1, 1)
)
GOOD = Resident(ID, hukou=HUKOU, mobile="+8613800138000")
PROGRAMS = load_catalog(ROOT / "jobs")


def outcome(name: str, resident: Resident) -> bool:
    return CHECKS[name].run(resident, DAY, DISTRICT).passed


def test_a_good_resident_passes_every_check() -> None:
    assert all(outcome(name, GOOD) for name in CHECKS)


@pytest.mark.parametrize(
    ("check", "resident"),
    [
        (
            "id_checksum",
            dataclasses.replace(GOOD, id_number=ID[:17] + ("0" if ID[17] != "0" else "1")),
        ),
        (
            "id_matches_registry",
            dataclasses.replace(
                GOOD, hukou=dataclasses.replace(HUKOU, birth_date=dt.date(1966, 11, 24))
            ),
        ),
        (
            "id_matches_registry",
            dataclasses.replace(GOOD, hukou=dataclasses.replace(HUKOU, sex="F")),
        ),
        (
            "residency",
            dataclasses.replace(GOOD, hukou=dataclasses.replace(HUKOU, status="moved_out")),
        ),
        (
            "residency",
            dataclasses.replace(
                GOOD, hukou=dataclasses.replace(HUKOU, division_code="330106001001")
            ),
        ),
        (
            "residency",
            Resident(
                ID,
                permit=dataclasses.replace(PERMIT, valid_to=dt.date(2026, 11, 24)),
                mobile="+8613800138000",
            ),
        ),
        (
            "alive",
            dataclasses.replace(
                GOOD, hukou=dataclasses.replace(HUKOU, death_date=dt.date(2026, 1, 1))
            ),
        ),
        (
            "name_consistent",
            dataclasses.replace(GOOD, permit=dataclasses.replace(PERMIT, name="王方")),
        ),
        ("reachable_contact", dataclasses.replace(GOOD, mobile=None)),
    ],
)
def test_each_check_fails_on_its_own(check: str, resident: Resident) -> None:
    failed = [name for name in CHECKS if not outcome(name, resident)]
    assert failed == [check]
    assert CHECKS[check].run(resident, DAY, DISTRICT).detail  # a reason a reviewer can read


def test_household_member_mobile_makes_a_contact() -> None:
    assert outcome(
        "reachable_contact",
        dataclasses.replace(GOOD, mobile=None, household_mobiles=("+8613900139000",)),
    )


def test_verdict_blocks_only_on_blocking_checks() -> None:
    senior = PROGRAMS["senior_certificate"]
    no_phone = dataclasses.replace(GOOD, mobile=None)
    verdict = verify(no_phone, senior.checks, senior.blocking, DAY, DISTRICT)
    assert verdict.approved  # reachable_contact is not blocking: the task says phone/visit
    wrong_sex = dataclasses.replace(GOOD, hukou=dataclasses.replace(HUKOU, sex="F"))
    verdict = verify(wrong_sex, senior.checks, senior.blocking, DAY, DISTRICT)
    assert not verdict.approved
    assert "性别" in verdict.reason()


def test_eligibility_conditions() -> None:
    senior = PROGRAMS["senior_certificate"]
    assert assess(GOOD, senior, DAY, DISTRICT, has_case=False).eligible
    assert not assess(GOOD, senior, DAY - dt.timedelta(days=1), DISTRICT, has_case=False).eligible
    assert not assess(GOOD, senior, DAY, DISTRICT, has_case=True).eligible
    windowed = dataclasses.replace(GOOD, window_programs=frozenset({"senior_certificate"}))
    assert not assess(windowed, senior, DAY, DISTRICT, has_case=False).eligible
    permit_only = Resident(ID, permit=PERMIT)
    assert assess(permit_only, senior, DAY, DISTRICT, has_case=False).eligible
    assert not assess(
        permit_only, PROGRAMS["high_age_allowance"], dt.date(2046, 11, 25), DISTRICT, False
    ).eligible


def test_state_machine_refuses_skipping_and_leaving_final_states() -> None:
    case_states.check_transition(case_states.DETECTED, case_states.APPROVED)
    for current, target in [
        (case_states.DETECTED, case_states.DELIVERED),
        (case_states.CANCELLED, case_states.APPROVED),
        (case_states.CLOSED, case_states.CANCELLED),
    ]:
        with pytest.raises(case_states.InvalidTransition):
            case_states.check_transition(current, target)


def test_name_mismatch_reason_holds_no_full_name() -> None:
    mismatch = dataclasses.replace(GOOD, permit=dataclasses.replace(PERMIT, name="王方"))
    detail = CHECKS["name_consistent"].run(mismatch, DAY, DISTRICT).detail
    assert "姓名不一致" in detail
    assert "王芳" not in detail and "王方" not in detail
    assert "王*" in detail

"""Verification checks: named, pure, one job each. A program lists the ones it runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from stdnum.cn import ric

from proactive.masking import mask_name
from proactive.registry.resident import HukouRecord, PermitRecord, Resident


@dataclass(frozen=True)
class Outcome:
    passed: bool
    detail: str = ""  # why it failed, in Chinese (what a reviewer reads)


@dataclass(frozen=True)
class Check:
    name: str
    zh: str
    en: str
    run: Callable[[Resident, dt.date, str], Outcome]


def _id_checksum(resident: Resident, _day: dt.date, _district: str) -> Outcome:
    number = resident.id_number
    ok = len(number) == 18 and number[:17].isdigit() and ric.calc_check_digit(number) == number[-1]
    return Outcome(ok, "" if ok else "身份证号校验位错误")


def _id_matches_registry(resident: Resident, _day: dt.date, _district: str) -> Outcome:
    number = resident.id_number
    try:
        birth = ric.get_birth_date(number)
    except ValueError:
        return Outcome(False, "身份证号中的出生日期无效")
    sex = "M" if int(number[16]) % 2 else "F"
    problems = [
        f"{label}登记的出生日期{r.birth_date:%Y-%m-%d}与身份证号不一致"
        for label, r in _labelled(resident)
        if r.birth_date != birth
    ] + [f"{label}登记的性别与身份证号不一致" for label, r in _labelled(resident) if r.sex != sex]
    return Outcome(not problems, "；".join(problems))


def _residency(resident: Resident, day: dt.date, district: str) -> Outcome:
    ok = has_residency(resident, day, district, ("hukou", "permit"))
    return Outcome(ok, "" if ok else "无本区有效户籍或居住证")


def has_residency(resident: Resident, day: dt.date, district: str, kinds: tuple[str, ...]) -> bool:
    hukou, permit = resident.hukou, resident.permit
    in_hukou = (
        "hukou" in kinds
        and hukou is not None
        and hukou.status == "active"
        and (hukou.division_code or "").startswith(district)
    )
    in_permit = (
        "permit" in kinds
        and permit is not None
        and permit.valid_from <= day <= permit.valid_to
        and permit.division_code.startswith(district)
    )
    return in_hukou or in_permit


def is_alive(resident: Resident) -> bool:
    hukou = resident.hukou
    return hukou is None or (hukou.status != "deceased" and hukou.death_date is None)


def _alive(resident: Resident, _day: dt.date, _district: str) -> Outcome:
    ok = is_alive(resident)
    return Outcome(ok, "" if ok else "户籍登记为已死亡")


def _name_consistent(resident: Resident, _day: dt.date, _district: str) -> Outcome:
    names = {r.name for r in resident.records}
    ok = len(names) <= 1
    shown = "、".join(sorted(mask_name(n) for n in names))  # reasons are listed: no full names
    return Outcome(ok, "" if ok else f"户籍与居住证登记的姓名不一致（{len(names)}种写法）：{shown}")


def _reachable_contact(resident: Resident, _day: dt.date, _district: str) -> Outcome:
    ok = bool(resident.mobile or resident.household_mobiles)
    return Outcome(ok, "" if ok else "本人及家庭成员均无有效手机号，需电话或上门联系")


def _labelled(resident: Resident) -> list[tuple[str, HukouRecord | PermitRecord]]:
    out: list[tuple[str, HukouRecord | PermitRecord]] = []
    if resident.hukou:
        out.append(("户籍", resident.hukou))
    if resident.permit:
        out.append(("居住证", resident.permit))
    return out


CHECKS: dict[str, Check] = {
    c.name: c
    for c in (
        Check("id_checksum", "身份证号校验位", "the ID number's check digit", _id_checksum),
        Check(
            "id_matches_registry",
            "身份证号与登记的出生日期、性别一致",
            "birth date and sex agree with the ID number",
            _id_matches_registry,
        ),
        Check("residency", "本区户籍在册或居住证有效", "hukou active or permit valid", _residency),
        Check("alive", "未登记死亡", "not recorded as deceased", _alive),
        Check(
            "name_consistent", "各来源姓名一致", "the same name in every source", _name_consistent
        ),
        Check(
            "reachable_contact",
            "本人或家庭成员有手机号",
            "a reachable contact (own or a household member's mobile)",
            _reachable_contact,
        ),
    )
}


@dataclass(frozen=True)
class Verdict:
    results: tuple[tuple[str, Outcome], ...]
    blocking: frozenset[str]

    @property
    def failures(self) -> list[tuple[str, Outcome]]:
        return [(name, o) for name, o in self.results if not o.passed]

    @property
    def approved(self) -> bool:
        return all(o.passed for name, o in self.results if name in self.blocking)

    def reason(self) -> str:
        return "；".join(o.detail for _, o in self.failures)


def verify(
    resident: Resident,
    checks: tuple[str, ...],
    blocking: frozenset[str],
    day: dt.date,
    district: str,
) -> Verdict:
    return Verdict(
        tuple((name, CHECKS[name].run(resident, day, district)) for name in checks), blocking
    )

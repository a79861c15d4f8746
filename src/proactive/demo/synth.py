"""Synthetic registry extracts for Binjiang: deterministic for a seed, realistic enough to
exercise every stage, with a controlled number of people turning 60 on the given date and a
sprinkling of bad rows. No real person is described; every ID number is made up.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stdnum.cn import ric

from proactive.registry.binjiang import COMMUNITIES, PLATFORMS, STREETS, Community

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
    "杜叶程魏苏吕丁任沈姚卢钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙"
    "黎史陶贺毛郝顾龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬建国建华志强"
    "海燕晓东雪梅文博子涵浩然欣怡梓轩雨桐俊杰嘉怡宇航思远佳琪天宇"
)
RARE = ("𠮷", "㛃", "堃", "昇", "喆", "燚", "垚", "淼")  # 𠮷 is outside the BMP
ROADS = (
    "江南大道",
    "滨盛路",
    "江汉路",
    "长河路",
    "浦沿路",
    "闻涛路",
    "火炬大道",
    "西兴路",
    "聚才路",
    "春波路",
)
# Region codes of where residents' ID cards were first issued: Hangzhou and the provinces that
# send most people to Binjiang's industries.
LOCAL_CODES = ("330108", "330104", "330102", "330106", "330109", "330181")
MIGRANT_CODES = ("340104", "341222", "362426", "412726", "430124", "510104", "321102", "330302")
FIRST_ISSUE_YEAR = 1985
MILESTONE_AGES = (60, 80, 100)
MOBILE_PREFIXES = (
    "133",
    "135",
    "137",
    "138",
    "139",
    "150",
    "152",
    "158",
    "159",
    "177",
    "180",
    "186",
    "188",
    "199",
)
# Age pyramid of a young tech district: (lowest age, highest age, weight)
AGE_BANDS = ((0, 17, 18), (18, 29, 22), (30, 44, 30), (45, 59, 16), (60, 79, 11), (80, 104, 3))

PERSON_COLUMNS = (
    "id_number",
    "name",
    "sex",
    "birth_date",
    "household_id",
    "hukou_status",
    "death_date",
    "mobile",
    "updated_at",
)
HOUSEHOLD_COLUMNS = ("household_id", "address", "division_code", "lat", "lon")
PERMIT_COLUMNS = (
    "id_number",
    "name",
    "sex",
    "birth_date",
    "address",
    "division_code",
    "lat",
    "lon",
    "valid_from",
    "valid_to",
    "mobile",
    "updated_at",
)
CERTIFICATE_COLUMNS = ("id_number", "program", "certificate_no", "issued_on")
SITE_COLUMNS = ("site_id", "name", "kind", "division_code", "lat", "lon", "daily_capacity", "phone")
WORKER_COLUMNS = ("worker_id", "name", "site_id", "mobile", "active", "role")


@dataclass(frozen=True)
class SynthOptions:
    residents: int = 2000
    seed: int = 20261125
    as_of: dt.date = dt.date(2026, 11, 25)
    turning_60: int = 12  # people whose 60th birthday is as_of
    permit_share: float = 0.15
    bad_rows: bool = True


@dataclass
class SynthCounts:
    persons: int = 0
    households: int = 0
    permits: int = 0
    bad_rows: int = 0


class Generator:
    def __init__(self, options: SynthOptions) -> None:
        self.o = options
        self.rng = random.Random(options.seed)
        self.orders: dict[tuple[str, dt.date], int] = {}
        # Only the chosen people reach a program's age on the day: others born on such a
        # day are moved a day earlier, so benchmarks of any size open the same number.
        self.milestones = {_birthday(options.as_of, years) for years in MILESTONE_AGES}
        if options.as_of.month == 2 and options.as_of.day == 28:
            self.milestones |= {
                dt.date(options.as_of.year - y, 2, 29)
                for y in MILESTONE_AGES
                if calendar.isleap(options.as_of.year - y)
            }

    # -- people ---------------------------------------------------------------------------
    def name(self) -> str:
        rng = self.rng
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        if rng.random() < 0.004:
            given = rng.choice(RARE) + given[:1]
        return rng.choice(SURNAMES) + given

    def birth_date(self) -> dt.date:
        rng = self.rng
        low, high, _ = rng.choices(AGE_BANDS, weights=[b[2] for b in AGE_BANDS])[0]
        age_days = rng.randint(low * 365 + 1, high * 365 + 364)
        birth = self.o.as_of - dt.timedelta(days=age_days)
        return birth - dt.timedelta(days=1) if birth in self.milestones else birth

    def id_number(self, birth: dt.date, sex: str, local: bool) -> str:
        # Cards were first issued from 1985: older people carry a code in use by then.
        issued = max(birth.year, FIRST_ISSUE_YEAR)
        codes = LOCAL_CODES if local else MIGRANT_CODES
        region = self.rng.choice([c for c in codes if _region_valid(c, issued)])
        taken = self.orders.get((region, birth), 0)  # 500 numbers per sex, region and day
        self.orders[(region, birth)] = taken + 1
        order = taken % 500 * 2 + (1 if sex == "男" else 0)
        body = f"{region}{birth:%Y%m%d}{order:03d}"
        return body + ric.calc_check_digit(body + "0")

    def mobile(self, birth: dt.date) -> str:
        age = (self.o.as_of - birth).days // 365
        chance = 0.0 if age < 12 else 0.55 if age >= 75 else 0.93
        if self.rng.random() >= chance:
            return ""
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"

    def updated_at(self) -> str:
        moment = dt.datetime.combine(self.o.as_of, dt.time(1, 0)) - dt.timedelta(
            seconds=self.rng.randint(86_400, 400 * 86_400)
        )
        return f"{moment:%Y-%m-%d %H:%M:%S}"

    def person(self, household_id: str, birth: dt.date | None = None) -> list[str]:
        birth = birth or self.birth_date()
        sex = self.rng.choice("男女")
        status, death = "active", ""
        roll = self.rng.random()
        if roll < 0.01:
            status = "moved_out"
        elif roll < 0.01 + (0.08 if (self.o.as_of - birth).days > 75 * 365 else 0.002):
            status = "deceased"
            death = f"{self.o.as_of - dt.timedelta(days=self.rng.randint(2, 700)):%Y-%m-%d}"
        return [
            self.id_number(birth, sex, True),
            self.name(),
            sex,
            f"{birth:%Y-%m-%d}",
            household_id,
            status,
            death,
            self.mobile(birth),
            self.updated_at(),
        ]

    # -- places ---------------------------------------------------------------------------
    def point(self, community: Community, spread_km: float) -> tuple[float, float]:
        dlat = self.rng.uniform(-spread_km, spread_km) / 111.0
        dlon = self.rng.uniform(-spread_km, spread_km) / 96.0
        return round(community.lat + dlat, 6), round(community.lon + dlon, 6)

    def address(self, community: Community) -> str:
        rng = self.rng
        return (
            f"浙江省杭州市滨江区{community.street}{community.name}{rng.choice(ROADS)}"
            f"{rng.randint(1, 999)}号{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元"
            f"{rng.randint(1, 33)}{rng.randint(1, 4):02d}室"
        )

    def landline(self) -> str:
        """A Hangzhou landline in the 0571-8xxxxxxx range (synthetic)."""
        return f"0571-8{self.rng.randint(0, 9_999_999):07d}"

    def community(self) -> Community:
        return self.rng.choices(COMMUNITIES, weights=[c.weight for c in COMMUNITIES])[0]


def write_extract(out: Path, options: SynthOptions) -> SynthCounts:
    """Write persons, households, residence permits, window certificates, sites and social
    workers CSVs into `out` (UTF-8)."""
    out.mkdir(parents=True, exist_ok=True)
    gen = Generator(options)
    counts = SynthCounts()
    with (
        _writer(out / "sites.csv", SITE_COLUMNS) as sites,
        _writer(out / "social_workers.csv", WORKER_COLUMNS) as workers,
    ):
        for row, staff in _sites(gen):
            sites.writerow(row)
            workers.writerows(staff)
    with (
        _writer(out / "households.csv", HOUSEHOLD_COLUMNS) as households,
        _writer(out / "persons.csv", PERSON_COLUMNS) as persons,
        _writer(out / "residence_permits.csv", PERMIT_COLUMNS) as permits,
        _writer(out / "certificates_issued.csv", CERTIFICATE_COLUMNS) as certificates,
    ):
        permit_target = int(options.residents * options.permit_share)
        hukou_target = options.residents - permit_target
        sixty = _birthday(options.as_of, 60)
        household_no = 0
        while counts.persons < hukou_target:
            household_no += 1
            community = gen.community()
            household_id = f"HH{household_no:08d}"
            lat, lon = gen.point(community, 0.7)
            households.writerow([household_id, gen.address(community), community.code, lat, lon])
            counts.households += 1
            size = min(gen.rng.choice((1, 2, 2, 3, 3, 3, 4, 5)), hukou_target - counts.persons)
            for _ in range(size):
                birth = sixty if counts.persons < options.turning_60 else None
                row = gen.person(household_id, birth)
                if birth is not None:
                    row[5], row[6] = "active", ""
                persons.writerow(row)
                counts.persons += 1
                if (
                    _over(options.as_of, row[3], 61)
                    and gen.rng.random() < 0.3
                    and row[5] == "active"
                ):
                    certificates.writerow(
                        [
                            row[0],
                            "senior_certificate",
                            f"330108-W-{counts.persons:07d}",
                            _window_issue_date(gen, row[3]),
                        ]
                    )
        for _ in range(permit_target):
            permits.writerow(_permit(gen))
            counts.permits += 1
        if options.bad_rows:
            counts.bad_rows = _bad_rows(gen, persons)
    return counts


@functools.cache
def _region_valid(region: str, year: int) -> bool:
    """Whether python-stdnum knows this county code as in use in that year."""
    body = f"{region}{year}0101001"
    return bool(ric.is_valid(body + ric.calc_check_digit(body + "0")))


def _birthday(day: dt.date, years: int) -> dt.date:
    """The same day `years` earlier (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def _window_issue_date(gen: Generator, birth: str) -> str:
    """A day within a year after the 60th birthday, when someone applied at a window."""
    sixtieth = _birthday(dt.date.fromisoformat(birth), -60)
    return f"{sixtieth + dt.timedelta(days=gen.rng.randint(0, 360)):%Y-%m-%d}"


def _over(as_of: dt.date, birth: str, years: int) -> bool:
    return dt.date.fromisoformat(birth) <= _birthday(as_of, years)


def _permit(gen: Generator) -> list[str]:
    birth = gen.birth_date()
    sex = gen.rng.choice("男女")
    community = gen.community()
    lat, lon = gen.point(community, 0.7)
    start = gen.o.as_of - dt.timedelta(days=gen.rng.randint(30, 1500))
    end = start + dt.timedelta(days=gen.rng.choice((365, 730, 1095)))
    return [
        gen.id_number(birth, sex, False),
        gen.name(),
        sex,
        f"{birth:%Y-%m-%d}",
        gen.address(community),
        community.code,
        str(lat),
        str(lon),
        f"{start:%Y-%m-%d}",
        f"{end:%Y-%m-%d}",
        gen.mobile(birth),
        gen.updated_at(),
    ]


def _sites(gen: Generator) -> Iterator[tuple[list[Any], list[list[Any]]]]:
    worker_no = 0

    def staff(site_id: str, count: int, role: str) -> list[list[Any]]:
        nonlocal worker_no
        rows = []
        for _ in range(count):
            worker_no += 1
            mobile = gen.rng.choice(MOBILE_PREFIXES) + f"{gen.rng.randint(0, 99_999_999):08d}"
            active = "true" if gen.rng.random() > 0.05 else "false"
            rows.append([f"W{worker_no:04d}", gen.name(), site_id, mobile, active, role])
        return rows

    for street in STREETS:
        site_id = f"S{street.code[-3:]}"
        yield (
            [
                site_id,
                f"{street.name}便民服务中心",
                "street",
                street.code + "000",
                street.lat,
                street.lon,
                40,
                gen.landline(),
            ],
            staff(site_id, 2, "supervisor"),
        )
    for community in COMMUNITIES:
        site_id = f"C{community.code[-6:]}"
        lat, lon = gen.point(community, 0.1)
        yield (
            [
                site_id,
                f"{community.name}服务站",
                "community",
                community.code,
                lat,
                lon,
                24,
                gen.landline(),
            ],
            staff(site_id, gen.rng.choice((1, 2, 2, 3)), "worker"),
        )
    for index, (name, code, lat, lon) in enumerate(PLATFORMS, start=1):
        site_id = f"P{index:03d}"
        row = [site_id, name, "platform", code, lat, lon, 16, gen.landline()]
        yield row, staff(site_id, 1, "worker")


def _bad_rows(gen: Generator, persons: csv.Writer) -> int:  # type: ignore[name-defined]
    """One of each kind of bad row the ingest must catch, with a Chinese reason each."""
    good = gen.person("HH00000001")
    bad_checksum = list(good)
    bad_checksum[0] = good[0][:17] + ("0" if good[0][17] != "0" else "1")
    bad_date = gen.person("HH00000001")
    bad_date[3] = "1960/13/45"
    bad_sex = gen.person("HH00000001")
    bad_sex[2] = "M"
    no_name = gen.person("HH00000001")
    no_name[1] = ""
    mismatch = gen.person("HH00000001")
    mismatch[3] = "1950-01-01"
    bad_mobile = gen.person("HH00000001")
    bad_mobile[7] = "12345"
    conflict = gen.person("HH00000002")
    twin = list(conflict)
    twin[1] = conflict[1] + "某"
    legacy = gen.person("HH00000002", dt.date(1958, 3, 9))
    legacy[0] = legacy[0][:6] + legacy[0][8:17]  # a 15-digit card: upgraded, not rejected
    rows = [bad_checksum, bad_date, bad_sex, no_name, mismatch, bad_mobile, conflict, twin, legacy]
    persons.writerows(rows)
    return len(rows)


class _writer:
    """A CSV file open for writing with its header, as a context manager."""

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        self.handle = path.open("w", encoding="utf-8", newline="")
        self.csv = csv.writer(self.handle)
        self.csv.writerow(header)

    def __enter__(self) -> csv.Writer:  # type: ignore[name-defined]
        return self.csv

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

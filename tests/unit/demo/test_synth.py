import csv
import datetime as dt
import hashlib
from pathlib import Path

from stdnum.cn import ric

from proactive.demo.synth import SynthOptions, write_extract
from proactive.registry.binjiang import COMMUNITIES, STREETS

AS_OF = dt.date(2026, 11, 25)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def digest(directory: Path) -> str:
    return hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(directory.glob("*.csv")))
    ).hexdigest()


def test_same_seed_same_extract(tmp_path: Path) -> None:
    options = SynthOptions(residents=400, as_of=AS_OF)
    write_extract(tmp_path / "a", options)
    write_extract(tmp_path / "b", options)
    write_extract(tmp_path / "c", SynthOptions(residents=400, as_of=AS_OF, seed=7))
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")


def test_people_turning_60_and_valid_ids(tmp_path: Path) -> None:
    counts = write_extract(
        tmp_path, SynthOptions(residents=1500, as_of=AS_OF, turning_60=9, bad_rows=False)
    )
    persons = rows(tmp_path / "persons.csv")
    assert len(persons) == counts.persons
    assert (
        sum(p["birth_date"] == "1966-11-25" and p["hukou_status"] == "active" for p in persons) >= 9
    )
    assert all(ric.calc_check_digit(p["id_number"]) == p["id_number"][-1] for p in persons)
    assert len({p["id_number"] for p in persons}) == len(persons)
    statuses = {p["hukou_status"] for p in persons}
    assert statuses == {"active", "moved_out", "deceased"}
    ages = [(AS_OF - dt.date.fromisoformat(p["birth_date"])).days / 365.25 for p in persons]
    assert 0.08 < sum(a >= 60 for a in ages) / len(ages) < 0.25  # a young tech district


def test_places_are_binjiangs(tmp_path: Path) -> None:
    """Binjiang's 67 real communities (NBS 2023 codes and names), one service station each."""
    assert len(COMMUNITIES) == 67
    by_street = {s.code: sum(c.code[:9] == s.code for c in COMMUNITIES) for s in STREETS}
    assert by_street == {"330108001": 21, "330108002": 21, "330108003": 25}
    assert ("330108001001", "西陵社区") in {(c.code, c.name) for c in COMMUNITIES}
    assert all(len(c.code) == 12 and c.code.isdigit() for c in COMMUNITIES)
    write_extract(tmp_path, SynthOptions(residents=300, as_of=AS_OF))
    codes = {c.code for c in COMMUNITIES}
    assert {h["division_code"] for h in rows(tmp_path / "households.csv")} <= codes
    sites = rows(tmp_path / "sites.csv")
    assert {s["kind"] for s in sites} == {"street", "community", "platform"}
    assert {s["name"] for s in sites if s["kind"] == "street"} == {
        f"{s.name}便民服务中心" for s in STREETS
    }
    stations = {s["division_code"]: s["name"] for s in sites if s["kind"] == "community"}
    assert stations == {c.code: f"{c.name}服务站" for c in COMMUNITIES}
    for site in sites:
        assert 30.1 < float(site["lat"]) < 30.25 and 120.1 < float(site["lon"]) < 120.3


def test_bad_rows_are_sprinkled(tmp_path: Path) -> None:
    counts = write_extract(tmp_path, SynthOptions(residents=200, as_of=AS_OF))
    persons = rows(tmp_path / "persons.csv")
    assert counts.bad_rows == 9
    assert any(len(p["id_number"]) == 15 for p in persons)
    assert any(p["name"] == "" for p in persons)

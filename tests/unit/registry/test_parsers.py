import pandas as pd
import pytest

from proactive.registry import parsers, reasons
from tests.factories import make_id


def parse(parser: parsers.Parser, *values: str) -> parsers.Parsed:
    return parser(pd.Series(list(values), dtype=object))


def test_valid_id_passes_and_is_uppercased() -> None:
    number = make_id(birth="19700101", order=0)
    body = make_id(birth="19700101", order=0)[:17]
    x_id = next(
        body[:14] + f"{o:03d}"
        for o in range(1000)
        if make_id(birth="19700101", order=o).endswith("X")
    )
    x_id = make_id(birth="19700101", order=int(x_id[14:17]))
    parsed = parse(parsers.id_number, number, x_id.lower())
    assert parsed.problems.isna().all()
    assert parsed.values.tolist() == [number, x_id]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("33010819700101001", reasons.ID_FORMAT),  # 17 characters
        ("33010819700101001A", reasons.ID_FORMAT),
        (
            "330108197001010019"
            if make_id("19700101", order=1)[-1] != "9"
            else "330108197001010018",
            reasons.ID_CHECKSUM,
        ),
    ],
)
def test_bad_id_numbers_are_refused_with_their_reason(value: str, reason: reasons.Reason) -> None:
    assert parse(parsers.id_number, value).problems.tolist() == [reason]


def test_impossible_birth_date_in_id_is_refused() -> None:
    body = "33010819701301001"  # month 13
    from stdnum.cn import ric

    number = body + ric.calc_check_digit(body + "0")
    assert parse(parsers.id_number, number).problems.tolist() == [reasons.ID_BIRTH_DATE]


def test_legacy_15_digit_number_is_upgraded_to_18() -> None:
    legacy = "330108700101001"  # born 1970-01-01, order 001
    parsed = parse(parsers.id_number, legacy)
    assert parsed.values.tolist() == [make_id(birth="19700101", order=1)]
    assert parsed.problems.isna().all()


def test_sex_and_birth_date_decoded_from_id() -> None:
    ids = pd.Series([make_id("19600229", order=1), make_id("19600229", order=2)])
    assert parsers.id_sex(ids).tolist() == ["M", "F"]
    assert parsers.id_birth_date(ids).dt.strftime("%Y-%m-%d").tolist() == ["1960-02-29"] * 2


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("86 19912345678", "+8619912345678"),
    ],
)
def test_mobiles_become_e164(raw: str, e164: str) -> None:
    parsed = parse(parsers.mobile, raw)
    assert parsed.values.tolist() == [e164]
    assert parsed.problems.isna().all()


@pytest.mark.parametrize("raw", ["12345", "1380013800", "02112345678", "abc", "10086"])
def test_invalid_or_landline_numbers_are_refused(raw: str) -> None:
    parsed = parse(parsers.mobile, raw)
    assert parsed.problems.tolist() == [reasons.BAD_MOBILE]
    assert parsed.values.isna().all()


def test_names_keep_rare_and_non_bmp_characters() -> None:
    names = ["𠮷野", "㛃", "王\U0002a6a5", "\uf900李"]  # incl. a CJK compatibility ideograph
    assert parse(parsers.text(50), *[f"  {n} " for n in names]).values.tolist() == names


@pytest.mark.parametrize("raw", ["1960/01/01", "1960-1-1", "1960-02-30", "19600101", "yesterday"])
def test_dates_must_be_iso(raw: str) -> None:
    assert parse(parsers.date, raw).problems.tolist() == [reasons.BAD_DATE]


def test_timestamps_accept_date_time_forms() -> None:
    parsed = parse(
        parsers.timestamp, "2026-11-01 10:00:00", "2026-11-01T10:00", "2026-11-01", "01/11/2026"
    )
    assert parsed.problems.tolist() == [None, None, None, reasons.BAD_DATETIME]


def test_sex_codes() -> None:
    parsed = parse(parsers.sex, "男", "女", "M")
    assert parsed.values.tolist()[:2] == ["M", "F"]
    assert parsed.problems.tolist() == [None, None, reasons.BAD_SEX]


def test_coordinates_outside_china_are_refused() -> None:
    assert parse(parsers.latitude, "30.2", "91", "x").problems.tolist() == [
        None,
        reasons.BAD_COORDS,
        reasons.BAD_COORDS,
    ]


def test_booleans_and_counts() -> None:
    assert parse(parsers.boolean, "true", "否", "1", "maybe").values.tolist() == [
        True,
        False,
        True,
        None,
    ]
    assert parse(parsers.count, "12", "-1", "1.5").problems.tolist() == [
        None,
        reasons.BAD_INTEGER,
        reasons.BAD_INTEGER,
    ]


# -- hostile values ---------------------------------------------------------------------------
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def test_a_full_width_id_number_is_folded_and_accepted() -> None:
    number = make_id(birth="19700101", order=7)
    parsed = parse(parsers.id_number, number.translate(FULL_WIDTH))
    assert parsed.problems.tolist() == [None]
    assert parsed.values.tolist() == [number]


def test_full_width_digits_are_folded_in_every_code_column() -> None:
    assert parse(parsers.division_code, "３３０１０８００２００１").values.tolist() == [
        "330108002001"
    ]
    counted = parse(parsers.count, "２０")
    assert (counted.values.tolist(), counted.problems.tolist()) == ([20], [None])
    assert parse(parsers.code(64), "Ｃ１", "ＨＨ　１２").values.tolist() == ["C1", "HH 12"]
    assert parse(parsers.date, "１９６６-１１-２５").problems.tolist() == [None]
    assert parse(parsers.mobile, "１３８００１３８０００").values.tolist() == ["+8613800138000"]


def test_digits_of_other_scripts_are_refused_not_misread() -> None:
    arabic = "٢٠"  # NFKC keeps them; `\d` would take them
    assert parse(parsers.count, arabic).problems.tolist() == [reasons.BAD_INTEGER]
    assert parse(parsers.division_code, "٣" * 12).problems.tolist() == [reasons.BAD_DIVISION]
    assert parse(parsers.id_number, "٣" * 18).problems.tolist() == [reasons.ID_FORMAT]
    # libphonenumber itself reads every script's digits: the stored number is ASCII
    assert parse(parsers.mobile, "١٣٨٠٠١٣٨٠٠٠").values.tolist() == ["+8613800138000"]


def test_names_are_not_folded() -> None:
    assert parse(parsers.text(50), "王１").values.tolist() == ["王１"]


def test_text_and_codes_longer_than_their_column_are_refused() -> None:
    assert parse(parsers.text(5), "12345", "123456", "x" * 100_000).problems.tolist() == [
        None,
        reasons.TOO_LONG,
        reasons.TOO_LONG,
    ]
    assert parse(parsers.code(3), "ＡＢＣ", "ABCD").problems.tolist() == [None, reasons.TOO_LONG]


def test_control_characters_are_removed_and_line_breaks_become_spaces() -> None:
    raw = pd.Series(["王\x00芳", "长河路\r\n1号", "ok", "\x07\x1b[31m红\x9b"], dtype=object)
    cleaned, found = parsers.without_controls(raw)
    assert cleaned.tolist() == ["王芳", "长河路 1号", "ok", "[31m红"]
    assert found.tolist() == [True, True, False, True]

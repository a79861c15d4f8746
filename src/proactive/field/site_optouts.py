"""Opt-outs a site records for its residents: an older resident who cannot reply 退订 by SMS
(and Twilio takes no replies from mainland-China numbers) asks at the door or at the site. The
number is the one the resident's messages go to (sms.wording.recipient: their own mobile, else
a household member's); the supervisor never sees it in full. Each change goes to the audit
log. A resident of the site is someone with a visit from it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proactive.accounts import audit
from proactive.accounts.roles import Actor
from proactive.batching import chunks
from proactive.masking import mask_id, mask_phone
from proactive.models import OptOut, Task
from proactive.registry.resident_reads import load_residents
from proactive.sms import optouts
from proactive.sms.wording import recipient

SOURCE = "site"


@dataclass(frozen=True)
class SiteOptOut:
    task_id: int  # the resident's latest visit from the site
    masked_id: str
    masked_number: str
    source: str
    note: str
    created_at: dt.datetime


def number_for(session: Session, id_number: str) -> str:
    """The number a resident's messages go to ("" for none)."""
    resident = load_residents(session.connection(), [id_number]).get(id_number)
    to = recipient(resident) if resident is not None else None
    return to.number if to else ""


@dataclass(frozen=True)
class Standing:
    """Whether a visit's resident gets messages, as the task page shows it."""

    reachable: bool  # there is a number to send to
    opted_out: bool
    source: str  # who recorded the opt-out: sms | hotline | site | provider


def standing(session: Session, task: Task) -> Standing:
    number = number_for(session, task.id_number)
    entry = session.get(OptOut, number) if number else None
    return Standing(bool(number), entry is not None, entry.source if entry else "")


def record(
    session: Session, actor: Actor, task: Task, opt_out: bool, note: str, now: dt.datetime
) -> bool:
    """Opt the visit's resident out (or back in); False when there is no number or nothing
    changed."""
    number = number_for(session, task.id_number)
    if not number:
        return False
    if opt_out:
        changed = optouts.add(session, number, SOURCE, note, now).new
    else:
        changed = optouts.remove(session, number)
    action = "optout_add" if opt_out else "optout_remove"
    audit.record(session, actor, action, f"task:{task.id}", now, f"{mask_phone(number)} {note}")
    return changed


def of_site(session: Session, site_id: str) -> list[SiteOptOut]:
    """The site's residents whose messages are opted out, newest first."""
    rows = session.execute(
        select(Task.id_number, func.max(Task.id))
        .where(Task.site_id == site_id)
        .group_by(Task.id_number)
    )
    latest: dict[str, int] = {id_number: task_id for id_number, task_id in rows}
    residents = load_residents(session.connection(), list(latest))
    by_number: dict[str, str] = {}
    for id_number, resident in residents.items():
        to = recipient(resident)
        if to is not None:
            by_number.setdefault(to.number, id_number)
    found = [
        entry
        for chunk in chunks(sorted(by_number))
        for entry in session.scalars(select(OptOut).where(OptOut.number.in_(chunk)))
    ]
    found.sort(key=lambda o: (o.created_at, o.number), reverse=True)
    return [
        SiteOptOut(
            latest[by_number[o.number]],
            mask_id(by_number[o.number]),
            mask_phone(o.number),
            o.source,
            o.note,
            o.created_at,
        )
        for o in found
    ]

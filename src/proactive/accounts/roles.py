"""Roles and what each may see (pure): a worker her own visits, a supervisor her site's, an
admin everything. Every page and action asks these rules on the server, never the browser."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from proactive.errors import ProactiveError


class Role(StrEnum):
    worker = "worker"
    supervisor = "supervisor"
    admin = "admin"


ROLE_ZH = {Role.worker: "社工", Role.supervisor: "站点负责人", Role.admin: "区级管理员"}


class BadAccount(ProactiveError):
    """The account does not fit its role"""


@dataclass(frozen=True)
class Actor:
    """The signed-in person, as the rules need them."""

    user_id: int
    name: str
    role: Role
    worker_id: str = ""
    site_id: str = ""

    @property
    def label(self) -> str:  # how the audit log and case history name them
        return f"user:{self.name}"


@dataclass(frozen=True)
class Scope:
    """Which visits someone may see: None means any."""

    worker_id: str | None
    site_id: str | None


def check_account(role: Role, worker_id: str, site_id: str) -> None:
    """A worker is a social worker of the registry; a supervisor heads one site."""
    if role is Role.worker and not worker_id:
        raise BadAccount("a worker account needs --worker-id")
    if role is Role.supervisor and not site_id:
        raise BadAccount("a supervisor account needs --site")
    if role is Role.admin and (worker_id or site_id):
        raise BadAccount("an admin account has no worker or site")


def scope(actor: Actor) -> Scope:
    if actor.role is Role.worker:
        return Scope(worker_id=actor.worker_id, site_id=None)
    if actor.role is Role.supervisor:
        return Scope(worker_id=None, site_id=actor.site_id)
    return Scope(worker_id=None, site_id=None)


def may_see(actor: Actor, worker_id: str, site_id: str) -> bool:
    """May this person see a visit by this worker from this site?"""
    allowed = scope(actor)
    return (allowed.worker_id is None or allowed.worker_id == worker_id) and (
        allowed.site_id is None or allowed.site_id == site_id
    )


def may_supervise(actor: Actor, site_id: str) -> bool:
    """Reassign, review, see a site's progress: the site's supervisor or an admin."""
    return actor.role is Role.admin or (actor.role is Role.supervisor and actor.site_id == site_id)


def home_path(actor: Actor) -> str:
    """Where someone lands after signing in."""
    return {Role.worker: "/day", Role.supervisor: "/site", Role.admin: "/district"}[actor.role]

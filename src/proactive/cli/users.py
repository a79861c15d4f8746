"""Commands for the field app's accounts: add (prints a one-time code), disable, list."""

from __future__ import annotations

from typing import Annotated

import typer

from proactive import bootstrap
from proactive.accounts.roles import Role
from proactive.cli.common import FormatOption, fail, group
from proactive.errors import ProactiveError
from proactive.output import Format, render
from proactive.settings import Settings

users_app = group("Accounts of the field app (social workers, supervisors, staff).")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Sign-in name")],
    role: Annotated[Role, typer.Option(help="worker, supervisor or admin")],
    worker_id: Annotated[str, typer.Option("--worker-id", help="A worker's social worker ID")] = "",
    site: Annotated[str, typer.Option(help="A supervisor's site (a worker's is her own)")] = "",
) -> None:
    """Create an account and print its one-time code for choosing a password (valid 3 days)."""
    from sqlalchemy.orm import Session

    from proactive.accounts import users

    engine = bootstrap.engine(Settings.from_env())
    try:
        with Session(engine) as session, session.begin():
            code = users.add(session, name, role, worker_id, site, bootstrap.utc_now())
    except ProactiveError as error:
        raise fail(error) from error
    print(f"account {name} ({role.value}) created")
    print(f"one-time code: {code}  (open /setup within 3 days to choose a password)")


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="Sign-in name")]) -> None:
    """The account can no longer sign in; its open sessions end now."""
    from sqlalchemy.orm import Session

    from proactive.accounts import users

    engine = bootstrap.engine(Settings.from_env())
    try:
        with Session(engine) as session, session.begin():
            users.disable(session, name, bootstrap.utc_now())
    except ProactiveError as error:
        raise fail(error) from error
    print(f"account {name} disabled")


@users_app.command("list")
def users_list(fmt: FormatOption = Format.table) -> None:
    """Every account, its role, worker or site, and whether a password is set."""
    from sqlalchemy.orm import Session

    from proactive.accounts import users

    engine = bootstrap.engine(Settings.from_env())
    with Session(engine) as session:
        records = users.listing(session)
    print(render(records, users.COLUMNS, fmt, title="users"), end="")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")

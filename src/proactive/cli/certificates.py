"""Commands for certificates and their signing keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from proactive import bootstrap
from proactive.certificates.reasons import ReissueReason
from proactive.cli.common import (
    DateOption,
    FormatOption,
    UnmaskedOption,
    day_or_today,
    err,
    fail,
    group,
)
from proactive.errors import ProactiveError
from proactive.masking import mask_name
from proactive.output import Format, render
from proactive.progress import SILENT, counts_text
from proactive.settings import Settings

keys_app = group("The district's certificate signing keys.")
certificates_app = group(
    "Certificates and their signed QR codes.",
    invoke_without_command=True,
)


@keys_app.command("init")
def keys_init(
    force: Annotated[
        bool, typer.Option(help="Rotate: a new key; old public keys stay trusted")
    ] = False,
) -> None:
    """Create the district's Ed25519 key pair in PROACTIVE_KEY_DIR (the private key: a file)."""
    from proactive.certificates import keys

    settings = Settings.from_env()
    try:
        kid, public_path = keys.init(Path(settings.key_dir), force)
    except ProactiveError as error:
        raise fail(error) from error
    print(f"key id {kid.hex()}; public key {public_path} (share it with verifiers)")


@certificates_app.callback()
def certificates_command(
    ctx: typer.Context,
    fmt: FormatOption = Format.table,
    program: Annotated[str | None, typer.Option(help="Only this program")] = None,
    status: Annotated[str | None, typer.Option(help="pending, active or revoked")] = None,
    unmasked: UnmaskedOption = False,
) -> None:
    """List certificates (ID numbers masked unless --unmasked)."""
    if ctx.invoked_subcommand:
        return
    from proactive.certificates import issued

    engine = bootstrap.engine(Settings.from_env())
    records = issued.list_certificates(engine, program, status, unmasked)
    print(render(records, issued.COLUMNS, fmt, title="certificates"), end="")


@certificates_app.command("verify")
def certificates_verify(
    source: Annotated[str, typer.Argument(help="A certificate PDF, or the QR text (PC1:...)")],
    offline: Annotated[
        bool, typer.Option(help="Public keys only: do not ask the database about revocation")
    ] = False,
) -> None:
    """Check a certificate's QR code; exit 1 unless it is valid."""
    from proactive.certificates import issued, keys

    settings = Settings.from_env()
    engine = None if offline else bootstrap.engine(settings)
    result = issued.verify(source, keys.trusted_keys(Path(settings.key_dir)), engine)
    print(f"{'有效' if result.valid else '无效'} {result.code}")
    if result.claims is not None:
        c = result.claims
        print(
            f"{c.certificate_no} {c.program} {mask_name(c.holder)} {c.masked_id} "
            f"{c.issued_on} {c.issuer}"
        )
    if not result.valid:
        raise typer.Exit(code=1)


@certificates_app.command("issue")
def certificates_issue(
    date: DateOption = None,
    processes: Annotated[
        int, typer.Option(min=1, max=64, help="Processes on this machine (PostgreSQL for >1)")
    ] = 1,
) -> None:
    """Issue now the certificates of approved cases (the nightly run does it too): several
    processes, and several machines running this at once, share the work on PostgreSQL."""
    from proactive.certificates.issuing import IssuingPass
    from proactive.cli import progress

    settings = Settings.from_env()
    bootstrap.engine(settings).dispose()  # reachable and migrated before any process starts
    issue = IssuingPass(day_or_today(date), "certificates-issue", bootstrap.utc_now())
    try:
        with progress.shown() as shown:
            counts = bootstrap.issue_now(settings, issue, processes, shown)
    except ProactiveError as error:
        raise fail(error) from error
    print(f"issued with {processes} process(es): {counts_text(counts) or 'nothing to issue'}")


@certificates_app.command("reissue")
def certificates_reissue(
    reason: Annotated[ReissueReason, typer.Option(help="lost, damaged or corrected")],
    certificate_nos: Annotated[
        list[str] | None,
        typer.Argument(metavar="CERTIFICATE_NO...", help="The certificates to replace"),
    ] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from-file", help="Also the numbers in this file, one a line")
    ] = None,
    user: Annotated[str, typer.Option(help="Who asks for the reissue")] = "operator",
) -> None:
    """Revoke certificates and issue each a new one under a new number. Several numbers (or a
    file of them) show a bar on a terminal; a number that fails is reported, the others go on,
    and the exit status is 1."""
    from proactive.cli import progress
    from proactive.field import desk

    numbers = [*(certificate_nos or []), *_numbers_in(from_file)]
    if not numbers:
        raise fail(ProactiveError("no certificate number given (arguments or --from-file)"))
    settings = Settings.from_env()
    engine = bootstrap.engine(settings)
    issuer = bootstrap.issuer(settings)
    with progress.shown() as shown:
        done = desk.reissue_many(
            engine,
            bootstrap.programs(),
            numbers,
            reason,
            issuer,
            bootstrap.today_shanghai(),
            user,
            bootstrap.utc_now,
            shown if len(numbers) > 1 else SILENT,
        )
    failed = [r for r in done if r.new is None]
    if len(numbers) == 1 and failed:
        raise fail(ProactiveError(failed[0].error))
    for result in done:
        if result.new is None:
            err.print(f"error: {result.certificate_no}: {result.error}", markup=False)
            continue
        print(
            f"{result.certificate_no} revoked ({reason.value}); "
            f"new certificate {result.new.certificate_no}"
        )
        print(result.new.pdf_path)
    if len(numbers) > 1:
        print(f"reissued {len(done) - len(failed)} of {len(done)} ({len(failed)} failed)")
    if failed:
        raise typer.Exit(code=1)


def _numbers_in(path: Path | None) -> list[str]:
    """The certificate numbers in a file, one a line; blank lines and # comments skipped."""
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise fail(ProactiveError(f"--from-file {path}: cannot read it ({error})")) from None
    return [n.strip() for n in lines if n.strip() and not n.lstrip().startswith("#")]


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(certificates_app, name="certificates")

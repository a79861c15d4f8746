"""Certificate files in S3-compatible object storage, against moto's S3 server on 127.0.0.1
(boto3 speaking HTTP to it, as it would to Aliyun OSS or MinIO): issuing PUTs each PDF as its
row becomes active, `proactive doctor`'s checks read the objects back, and a crash between
staging and activation leaves nothing in the bucket."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import Engine
from typer.testing import CliRunner

from proactive.certificates.file_store import open_store
from proactive.certificates.issuing import Issuer
from proactive.certificates.object_store import ObjectStoreError, S3Store
from proactive.cli.main import app
from proactive.nightly import invariants
from tests.factories import cli_env, household, make_issuer, write_extract
from tests.integration.certificates.test_issuing import DAY, issued, load, run, seniors

runner = CliRunner()
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "cn-north-1",
}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def store(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Store:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    bucket = f"certs-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "cn-north-1"}
    )
    found = open_store(f"s3://{bucket}/binjiang", endpoint)
    assert isinstance(found, S3Store)
    return found


@pytest.fixture
def s3_issuer(key_dir: Path, tmp_path: Path, store: S3Store) -> Issuer:
    return dataclasses.replace(make_issuer(key_dir, tmp_path), store=store)


def test_issuing_puts_each_pdf_into_the_bucket_under_its_number(
    engine: Engine, s3_issuer: Issuer, store: S3Store, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", seniors(3))
    report = run(engine, DAY, s3_issuer)
    assert report.stages["issue"]["issued:senior_certificate"] == 3
    rows = issued(engine)
    bucket = store.bucket
    assert [r.pdf_path for r in rows] == [
        f"s3://{bucket}/binjiang/senior_certificate/2026/330108-2026-LN-{n:06d}.pdf"
        for n in (1, 2, 3)
    ]
    for row in rows:
        pdf = store.read(row.pdf_path)
        assert pdf is not None and pdf.startswith(b"%PDF")
        assert hashlib.sha256(pdf).hexdigest() == row.pdf_sha256
    assert sorted(store.locations()) == [r.pdf_path for r in rows]
    assert not (tmp_path / "pdf").exists()  # nothing went to the local disk
    with engine.connect() as conn:
        assert invariants.check_all(conn, store) == []


@pytest.mark.invariants_broken("the scenario removes and adds objects behind the register")
def test_the_checks_see_a_missing_and_an_orphan_object(
    engine: Engine, s3_issuer: Issuer, store: S3Store, tmp_path: Path
) -> None:
    load(engine, tmp_path / "x", seniors(2))
    run(engine, DAY, s3_issuer)
    first, _ = issued(engine)
    bucket, key = first.pdf_path.removeprefix("s3://").split("/", 1)
    store.client.delete_object(Bucket=bucket, Key=key)
    orphan = "binjiang/senior_certificate/2026/330108-2026-LN-000099.pdf"
    store.client.put_object(Bucket=bucket, Key=orphan, Body=b"%PDF-1.4 forged")
    with engine.connect() as conn:
        found = {(v.check, v.problem.split(" (")[0]) for v in invariants.check_all(conn, store)}
    assert found == {
        ("certificates", "PDF missing"),
        ("files", "orphan PDF: no certificate has this number"),
    }


def test_a_staged_pdf_reaches_the_bucket_only_when_published(store: S3Store) -> None:
    dropped = store.stage("senior_certificate/2026/a.pdf", b"%PDF-1.4 a")
    dropped.discard()
    dropped.publish()  # after a discard there is nothing left to put
    kept = store.stage("senior_certificate/2026/b.pdf", b"%PDF-1.4 b")
    assert list(store.locations()) == []
    assert kept.publish() == kept.target
    assert list(store.locations()) == [kept.target]
    assert store.read(kept.target) == b"%PDF-1.4 b"
    assert store.read(dropped.target) is None
    assert store.remove_temporary() == 0


def test_a_location_without_a_bucket_is_refused() -> None:
    with pytest.raises(ObjectStoreError):
        open_store("s3:///prefix")


@pytest.fixture
def env(tmp_path: Path, store: S3Store, endpoint: str) -> dict[str, str]:
    """The command line with its certificate files in the bucket."""
    return {
        **cli_env(tmp_path),
        "PROACTIVE_CERTIFICATE_DIR": f"s3://{store.bucket}/{store.prefix}",
        "PROACTIVE_S3_ENDPOINT_URL": endpoint,
    }


def test_the_commands_issue_into_the_bucket_and_doctor_checks_it(
    env: dict[str, str], store: S3Store, tmp_path: Path
) -> None:
    directory = write_extract(tmp_path / "x", seniors(2), households=[household("HH1")])
    for command in (["ingest", str(directory)], ["keys", "init"], ["run", "--date", "2026-11-25"]):
        result = runner.invoke(app, command, env=env)
        assert result.exit_code == 0, result.output
    assert len(list(store.locations())) == 2
    assert "all invariants hold" in runner.invoke(app, ["doctor"], env=env).output
    first = next(store.locations())
    kept = store.read(first)
    bucket, key = first.removeprefix("s3://").split("/", 1)
    store.client.delete_object(Bucket=bucket, Key=key)
    broken = runner.invoke(app, ["doctor"], env=env)
    assert broken.exit_code == 1 and "PDF missing (s3://" in broken.output
    store.client.put_object(Bucket=bucket, Key=key, Body=kept)  # whole again for the end check

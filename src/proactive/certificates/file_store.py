"""Where rendered documents are kept, written in two steps so that a file appears under a
certificate's name only once its row is being marked active.

`stage` prepares the bytes; `publish` puts them in place (inside the transaction that activates
the row) and returns the location recorded in the row; `discard` drops them. A crash leaves at
most a temporary file, which the next issuer on that machine removes (`remove_temporary`), or a
final file whose row is still `pending` (the next run renders it again under the same number and
replaces it); never a file without a row, never half a file. A temporary file's name says which
process writes it (`.<number>.<pid>@<host>.<random>.part`), so several issuers can share a
directory: one removes only what a dead process on its own machine left.

Two stores: `DirectoryStore` here (the default: a directory, an atomic rename) and
`certificates.object_store.S3Store` (S3-compatible object storage: a single PUT, which is
atomic too). `open_store` picks one from the setting.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from proactive import processes

TEMPORARY_SUFFIX = ".part"
S3_SCHEME = "s3://"


class StagedFile(Protocol):
    @property
    def target(self) -> str:
        """The location the file will have once published."""

    def publish(self) -> str:
        """Put the bytes in place; return the location to record."""

    def discard(self) -> None:
        """Drop the staged bytes (a no-op once published)."""


class FileStore(Protocol):
    def stage(self, name: str, data: bytes) -> StagedFile:
        """Prepare `data` for the relative `name`, not yet visible under it."""

    def remove_temporary(self) -> int:
        """Remove what interrupted writes left; return how many files."""

    def read(self, location: str) -> bytes | None:
        """The bytes at a recorded location; None when there is no such file."""

    def locations(self) -> Iterator[str]:
        """Every file in the store, temporary ones included, as locations."""


@dataclass(frozen=True)
class StagedPath:
    temporary: Path
    final: Path

    @property
    def target(self) -> str:
        return str(self.final)

    def publish(self) -> str:
        os.replace(self.temporary, self.final)
        return self.target

    def discard(self) -> None:
        self.temporary.unlink(missing_ok=True)


class DirectoryStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def stage(self, name: str, data: bytes) -> StagedPath:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.stem}.{_writer()}.", suffix=TEMPORARY_SUFFIX
        )
        staged = StagedPath(Path(temporary), target)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            staged.discard()
            raise
        return staged

    def remove_temporary(self) -> int:
        """Remove the temporary files of processes gone from this machine (and those whose
        name names no writer); a live issuer's files, and other machines', are left alone."""
        left = [p for p in self.locations() if p.endswith(TEMPORARY_SUFFIX) and _abandoned(p)]
        for path in left:
            Path(path).unlink(missing_ok=True)
        return len(left)

    def read(self, location: str) -> bytes | None:
        path = Path(location)
        return path.read_bytes() if path.is_file() else None

    def locations(self) -> Iterator[str]:
        if self.root.is_dir():
            yield from (str(p) for p in sorted(self.root.rglob("*")) if p.is_file())


def _writer() -> str:
    """How a temporary file's name says which process writes it: `<pid>@<host>`."""
    return f"{os.getpid()}@{processes.host().replace('.', '_')}"


def _abandoned(location: str) -> bool:
    parts = Path(location).name.rsplit(".", 3)  # ".<number>", "<pid>@<host>", random, "part"
    pid, _, host = parts[1].partition("@") if len(parts) == 4 else ("", "", "")
    if not (pid.isdigit() and host):
        return True  # named before names said who writes them
    here = processes.host()
    return host == here.replace(".", "_") and processes.gone(here, int(pid))


def open_store(where: str, endpoint_url: str = "") -> FileStore:
    """A directory, or `s3://bucket/prefix` (with an S3-compatible endpoint, or AWS's)."""
    if where.startswith(S3_SCHEME):
        from proactive.certificates.object_store import S3Store

        return S3Store.from_url(where, endpoint_url)
    return DirectoryStore(Path(where))

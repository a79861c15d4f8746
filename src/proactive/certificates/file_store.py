"""Where rendered documents are kept: a directory, written in two steps so that a file appears
under a certificate's name only once its row is being marked active.

`stage` writes the bytes under a temporary name (`*.part`) beside the final one; `publish`
moves them into place (an atomic rename, inside the transaction that activates the row);
`discard` removes them. A crash leaves at most a temporary file, which the next run removes
(`remove_temporary`), or a final file whose row is still `pending` (the next run renders it
again under the same number); never a PDF without a row, never half a PDF.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

TEMPORARY_SUFFIX = ".part"


@dataclass(frozen=True)
class StagedFile:
    temporary: Path
    target: Path

    def publish(self) -> str:
        """Move the bytes into place; return the path to record."""
        os.replace(self.temporary, self.target)
        return str(self.target)

    def discard(self) -> None:
        self.temporary.unlink(missing_ok=True)


class FileStore(Protocol):
    def stage(self, name: str, data: bytes) -> StagedFile:
        """Write `data` for the relative `name` under a temporary name."""

    def remove_temporary(self) -> int:
        """Remove what interrupted writes left; return how many files."""


class DirectoryStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def stage(self, name: str, data: bytes) -> StagedFile:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.stem}.", suffix=TEMPORARY_SUFFIX
        )
        staged = StagedFile(Path(temporary), target)
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
        if not self.root.is_dir():
            return 0
        left = list(self.root.rglob(f"*{TEMPORARY_SUFFIX}"))
        for path in left:
            path.unlink(missing_ok=True)
        return len(left)

"""The certificate directory shared by several issuers: a temporary file is removed only when
the process that writes it is gone from this machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from proactive import processes
from proactive.certificates.file_store import DirectoryStore

HOST = processes.host().replace(".", "_")


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_what_a_dead_process_here_left_is_removed(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    live = store.stage("senior_certificate/2026/330108-2026-LN-000001.pdf", b"%PDF-1.4 live")
    folder = live.temporary.parent
    dead = folder / f".330108-2026-LN-000002.{dead_pid()}@{HOST}.abcd1234.part"
    elsewhere = folder / f".330108-2026-LN-000003.{dead_pid()}@another-host.abcd1234.part"
    unnamed = folder / ".330108-2026-LN-000004.abcd1234.part"  # the old naming
    for left in (dead, elsewhere, unnamed):
        left.write_bytes(b"%PDF-1.4 half")

    assert DirectoryStore(tmp_path).remove_temporary() == 2  # another issuer, same directory
    assert sorted(p.name for p in folder.iterdir()) == sorted([live.temporary.name, elsewhere.name])
    assert live.publish() == str(tmp_path / "senior_certificate/2026/330108-2026-LN-000001.pdf")
    assert Path(live.target).read_bytes() == b"%PDF-1.4 live"


def test_a_temporary_name_says_which_process_writes_it(tmp_path: Path) -> None:
    staged = DirectoryStore(tmp_path).stage("p/2026/330108-2026-LN-000001.pdf", b"x")
    assert staged.temporary.name.startswith(f".330108-2026-LN-000001.{os.getpid()}@{HOST}.")
    assert staged.temporary.name.endswith(".part")

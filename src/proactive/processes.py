"""Which process on which machine holds something (a run lock row, a file being written), so
that what a dead process left behind is taken over at once, while a live one is left alone."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def host() -> str:
    """This machine's name, as owners record it (at most 40 characters)."""
    return socket.gethostname()[:40]


def gone(on_host: str, pid: int) -> bool:
    """True only when `on_host` is this machine and process `pid` no longer runs (a zombie counts
    as gone); a process on another machine is never judged from here."""
    if on_host != host():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    fields = _stat(Path(f"/proc/{pid}"))
    return fields is not None and fields[0] == "Z"


def children(pid: int) -> list[int]:
    """The processes `pid` started that still run (Linux: read from /proc), e.g. the serving
    processes of `proactive serve --workers N`."""
    found = []
    for entry in Path("/proc").iterdir():
        fields = _stat(entry) if entry.name.isdigit() else None
        if fields is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _stat(process: Path) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name: state, parent pid, ..."""
    try:
        return (process / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None

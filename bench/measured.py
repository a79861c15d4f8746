"""Run one benchmark phase in a process of its own: its JSON output, and its peak RSS."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run_phase(script: str, *args: str) -> dict[str, object]:
    """`python script --phase ... args`, which prints one JSON object; adds peak_rss_mb."""
    command = [sys.executable, script, *args]
    environment = {**os.environ, "PROACTIVE_LOG_LEVEL": "ERROR"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=environment)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed")
    result: dict[str, object] = json.loads(output)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024)
    return result

"""The life of a visit task: planned, then done, failed or withdrawn, never back.

A task is live while it is planned; the other states are final. Plain values, no I/O.
"""

from __future__ import annotations

PLANNED = "planned"
DONE = "done"
FAILED = "failed"
WITHDRAWN = "withdrawn"

FINAL = frozenset({DONE, FAILED, WITHDRAWN})

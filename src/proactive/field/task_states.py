"""The life of a visit task: planned, then done, failed or withdrawn, never back.

A task is live while it is planned; the other states are final; a failed visit says why
(`FailReason`). Plain values, no I/O.
"""

from __future__ import annotations

from enum import StrEnum

PLANNED = "planned"
DONE = "done"
FAILED = "failed"
WITHDRAWN = "withdrawn"

FINAL = frozenset({DONE, FAILED, WITHDRAWN})
STATUS_ZH = {PLANNED: "待上门", DONE: "已完成", FAILED: "未成功", WITHDRAWN: "已撤回"}


class FailReason(StrEnum):
    """Why a visit did not happen."""

    not_home = "not_home"
    refused = "refused"
    moved = "moved"
    deceased = "deceased"
    wrong_address = "wrong_address"

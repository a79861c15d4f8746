"""Why a certificate is reissued, with the Chinese words its history records. Plain values."""

from __future__ import annotations

from enum import StrEnum


class ReissueReason(StrEnum):
    lost = "lost"
    damaged = "damaged"
    corrected = "corrected"


REASONS_ZH = {
    ReissueReason.lost: "遗失",
    ReissueReason.damaged: "损坏",
    ReissueReason.corrected: "信息更正",
}

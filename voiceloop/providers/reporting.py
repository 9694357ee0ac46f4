"""What a provider tells the current turn's :class:`~voiceloop.stages.StageReport`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voiceloop.stages import current_report


def note_request(
    kind: str,
    provider: str,
    request_id: str | None,
    usage: Mapping[str, Any] | None = None,
) -> None:
    """Record who served ``kind``, its request id and server usage, when in a turn."""
    report = current_report()
    if report is None:
        return
    report.providers[kind] = provider
    if request_id:
        report.request_ids[kind] = request_id
    if usage:
        report.usage[kind] = dict(usage)

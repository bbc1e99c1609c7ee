"""What one delivery attempt came to, whatever the vendor (issue 16, 17): the worker records it
on the delivery (``last_response``) and moves the delivery by its verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Unbuildable(ValueError):
    """The facts cannot make a valid call; ``str(exc)`` says what is missing."""


@dataclass(frozen=True)
class Outcome:
    """``sent``, ``rejected`` (the vendor said no), ``transport`` (no usable answer: worth
    another try) or ``unbuildable`` (nothing was sent). ``vendor_ids``: what the vendor called
    the thing it booked (MRI's receipt ``TransactionID`` and cash ``BatchId``), for notices
    that must name it."""

    verdict: str
    operation: str
    request: str = ""
    code: int | None = None
    description: str = ""
    result: str = ""
    notes: list[str] = field(default_factory=list)
    vendor_ids: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "operation": self.operation,
            "request": self.request,
            "error_code": self.code,
            "error_description": self.description,
            "result": self.result[:4000],
            "notes": self.notes,
            "vendor_ids": self.vendor_ids,
        }

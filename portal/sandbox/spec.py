"""What every part of the scenario format shares (``scenarios``, ``scenario_upkeep``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

#: A scenario's local key ("kmetz-1200", "oak-2118"): what entities refer to each other by.
KEY_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class Strict(BaseModel):
    """Unknown fields are errors: a typo in a scenario file must not pass silently."""

    model_config = ConfigDict(extra="forbid")

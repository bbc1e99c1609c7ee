"""Webhook tests run the app on the real system clock: receivers check ``webhook-timestamp``
against their own clock, as Standard Webhooks libraries do (five minutes at most), so a
signature made at the suite's fixed system instant would be refused as stale."""

from __future__ import annotations

import pytest

from portal.core.clock import SystemClock


@pytest.fixture
def clock() -> SystemClock:
    return SystemClock()

"""The shared harness (connectors.md §3.1) on its own, as the MRI reference server will reuse it:
deterministic draws, count and probability switches, operation scoping, downtime windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.reference.harness import FaultKind, FaultSpec, FaultSwitches, RefClock, draw

T0 = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def test_draw_is_a_pure_function_in_the_unit_interval() -> None:
    values = [draw(42, n) for n in range(1000)]
    assert values == [draw(42, n) for n in range(1000)]
    assert all(0 <= v < 1 for v in values)
    assert 0.4 < sum(values) / len(values) < 0.6
    assert values != [draw(43, n) for n in range(1000)]


@pytest.mark.smoke
def test_count_switches_fire_on_the_next_n_matching_calls_only() -> None:
    switches = FaultSwitches({"AddPayment", "ReturnPayment"})
    fault = switches.timeout_next(2, operation="AddPayment")
    assert switches.draw("ReturnPayment") is None
    assert switches.draw("AddPayment") is fault
    assert switches.draw("AddPayment") is fault
    assert switches.draw("AddPayment") is None
    assert switches.active() == []


def test_the_oldest_switch_wins_and_the_others_are_not_consumed() -> None:
    switches = FaultSwitches({"AddPayment"})
    first = switches.reject_next(1)
    second = switches.soap_fault_next(1)
    assert switches.draw("AddPayment") is first
    assert switches.draw("AddPayment") is second
    assert switches.draw("AddPayment") is None


def test_probability_switches_follow_the_seeded_stream() -> None:
    switches = FaultSwitches({"AddPayment"})
    fault = switches.add(FaultSpec(kind=FaultKind.HTTP_ERROR, probability=0.3, seed=5))
    fired = [switches.draw("AddPayment") is fault for _ in range(50)]
    assert fired == [draw(5, k) < 0.3 for k in range(50)]
    assert fault.fired == sum(fired)


def test_kinds_take_the_names_of_connectors_md() -> None:
    spec = FaultSpec.model_validate({"kind": "malformed_next", "form": "double_escaped"})
    assert (spec.kind, spec.count) == (FaultKind.MALFORMED, 1)
    with pytest.raises(ValueError, match="unknown operation"):
        FaultSwitches({"AddPayment"}).reject_next(operation="AddPaymnt")


def test_downtime_window_and_latency() -> None:
    switches = FaultSwitches({"AddPayment"})
    switches.downtime(T0, T0 + timedelta(hours=1))
    assert switches.down(T0 - timedelta(seconds=1)) is None
    assert switches.down(T0) is not None
    assert switches.down(T0 + timedelta(hours=1)) is None
    switches.set_latency(100, 50, seed=1)
    assert switches.latency("AddPayment") == pytest.approx((100 + draw(1, 0) * 50) / 1000)


def test_the_clock_is_set_advanced_and_released() -> None:
    clock = RefClock()
    assert clock.mode == "system"
    clock.set(T0)
    clock.advance(timedelta(minutes=5))
    assert (clock.mode, clock.now()) == ("fixed", T0 + timedelta(minutes=5))
    clock.use_system()
    assert clock.mode == "system"

"""IDs are deterministic per workspace seed, unique, and shaped as the portal shows them."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import Session, col

from portal.core.ids import (
    BLOCK,
    IdCounter,
    IdMinter,
    buffered,
    format_id,
    format_ids,
    reserve,
    seed_from_text,
)


class TestFormatId:
    def test_same_seed_same_ids(self) -> None:
        # Pinned values, not the function compared with itself (more in test_golden_ids.py).
        assert [format_id(1, "resident", "res", n) for n in range(5)] == [
            "res_v89txea136n9",
            "res_kmmw328gcrct",
            "res_c0zx8p6zpa4b",
            "res_4dayea5ezvvw",
            "res_wsnzky3y9dkd",
        ]

    def test_seed_and_kind_change_the_ids(self) -> None:
        assert format_id(1, "resident", "res", 0) != format_id(2, "resident", "res", 0)
        assert format_id(1, "resident", "x", 0)[2:] != format_id(1, "lease", "x", 0)[2:]

    def test_shapes(self) -> None:
        assert re.fullmatch(r"res_[0-9a-z]{12}", format_id(3, "resident", "res", 0))
        assert re.fullmatch(r"[1-9][0-9]{15}", format_id(3, "batch", "", 0, "digits16"))
        assert re.fullmatch(r"[1-9][0-9]{11}", format_id(3, "txn", "", 0, "digits12"))

    def test_no_repeats_within_a_kind(self) -> None:
        for shape in ("prefixed", "digits16", "digits12"):
            ids = {format_id(9, "k", "k", n, shape) for n in range(20_000)}
            assert len(ids) == 20_000


class TestIdMinter:
    def test_counters_continue_across_calls(self, session: Session) -> None:
        minter = IdMinter(session, "ws_a", 5)
        first = minter.new("thing", "th")
        rest = minter.many("thing", 3, "th")
        assert [first, *rest] == [format_id(5, "thing", "th", n) for n in range(4)]

    def test_rolled_back_numbers_are_given_back(self, session: Session) -> None:
        minter = IdMinter(session, "ws_b", 5)
        first = minter.new("thing", "th")
        session.rollback()
        assert minter.new("thing", "th") == first

    def test_scopes_count_separately(self, session: Session) -> None:
        a = IdMinter(session, "ws_a", 5).new("thing", "th")
        b = IdMinter(session, "ws_b", 5).new("thing", "th")
        assert a == b  # same seed, same position: same ID, in different workspaces

    def test_seed_from_text_is_stable(self) -> None:
        assert seed_from_text("ws_x") == 2832114301503550591
        assert seed_from_text("ws_y") == 2211274536086697791


def test_ids_made_in_bulk_are_the_ones_made_one_at_a_time() -> None:
    """``format_ids`` (one encode for a whole run) gives ``format_id``'s strings, every shape,
    at the start of a counter and far into it."""
    for shape in ("prefixed", "digits16", "digits12"):
        for seed, kind in ((7, "resident"), (2**61 + 5, "lease")):
            for ns in (range(0, 500), range(10**9, 10**9 + 40)):
                bulk = format_ids(seed, kind, "res", ns, shape)  # type: ignore[arg-type]
                assert bulk == [format_id(seed, kind, "res", n, shape) for n in ns]  # type: ignore[arg-type]


def _mint_a_load(minter: IdMinter) -> list[str]:
    """Kinds interleaved as a scenario load mints them, runs of one and of many, one run
    larger than a block."""
    out: list[str] = []
    for k in range(40):
        out.append(minter.new("resident", "res"))
        out.append(minter.new("lease", "lease"))
        out += minter.many("email", 3, "msg")
        if k % 10 == 0:
            out += minter.many("payment", 700, "pay")
    out.append(str(reserve(minter.session, minter.scope, "email_seq", 5)))
    return out


def _counters(session: Session, scope: str) -> dict[str, int]:
    rows = session.scalars(select(IdCounter).where(col(IdCounter.scope) == scope)).all()
    return {row.kind: row.next_value for row in rows}


def test_buffered_reservations_give_the_same_ids_and_counters(session: Session) -> None:
    """One upsert per block instead of one per ID, and the same IDs, the unused part of each
    block given back: the next ID minted after the load is the one it would have been."""
    plain = _mint_a_load(IdMinter(session, "ws_plain", 5))
    with buffered(session):
        fast = _mint_a_load(IdMinter(session, "ws_fast", 5))
        with buffered(session):  # nested: joins the outer buffer
            fast.append(IdMinter(session, "ws_fast", 5).new("resident", "res"))
    plain.append(IdMinter(session, "ws_plain", 5).new("resident", "res"))

    assert fast == plain
    assert _counters(session, "ws_fast") == _counters(session, "ws_plain")
    assert _counters(session, "ws_fast")["resident"] == 41


def test_a_named_lock_passes_through_the_buffer(session: Session) -> None:
    with buffered(session):
        IdMinter(session, "ws_c", 5).new("thing", "th")
        assert reserve(session, "ws_c", "thing", 0) == BLOCK  # the row as reserved ahead
    assert _counters(session, "ws_c")["thing"] == 1

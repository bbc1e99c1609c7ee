"""IDs are deterministic per workspace seed, unique, and shaped as the portal shows them."""

from __future__ import annotations

import re

from sqlmodel import Session

from portal.core.ids import IdMinter, format_id, format_ids, seed_from_text


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

"""Every status change goes through its feature's transition table, row by row and set-wise
(issue 15; ``portal/core/transitions.py``)."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from portal.core import transitions
from portal.payments import batching
from portal.payments import models as payment_models
from portal.payments.models import BatchStatus, DepositBatch, PaymentStatus

ROOT = Path(__file__).resolve().parent.parent / "portal"

#: Status UPDATEs that check the table another way, with the reason.
CHECKED_ELSEWHERE = {
    # Each item is checked against PAYMENT_TRANSITIONS first, and the UPDATE is a
    # compare-and-set on the status read (issue 14).
    "reversals/service.py",
    # A scheduled event's own run status (pending/done/cancelled), not a business status.
    "reversals/disputes.py",
}


def _status_updates() -> list[tuple[str, int, str]]:
    """Every ``update(...).values(status=...)`` (or ``{"status": ...}``) in ``portal``, with
    its statement's text and the names it uses that hold a ``transitions.moving`` clause
    (``completing = and_(..., transitions.moving(...))``) spelled out."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts or "reference" in path.parts:
            continue
        source = path.read_text()
        tree = ast.parse(source)
        clauses = {
            t.id
            for a in ast.walk(tree)
            if isinstance(a, ast.Assign)
            and "transitions.moving(" in (ast.get_source_segment(source, a.value) or "")
            for t in a.targets
            if isinstance(t, ast.Name)
        }
        for stmt in ast.walk(tree):
            if not isinstance(stmt, ast.stmt) or isinstance(
                stmt, ast.FunctionDef | ast.ClassDef | ast.For | ast.If | ast.With
            ):
                continue
            for node in ast.walk(stmt):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "values"
                ):
                    continue
                keys = {k.arg for k in node.keywords}
                for arg in node.args:
                    if isinstance(arg, ast.Dict):
                        keys |= {k.value for k in arg.keys if isinstance(k, ast.Constant)}
                text = ast.get_source_segment(source, stmt) or ""
                used = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)} & clauses
                if used:
                    text += "  # uses transitions.moving( via " + ", ".join(sorted(used))
                if "status" in keys and "update(" in text:
                    found.append((str(path.relative_to(ROOT)), node.lineno, text))
    return found


def test_every_bulk_status_update_names_the_table_it_obeys() -> None:
    updates = _status_updates()
    assert len(updates) >= 6, "the scan found too few status UPDATEs: it is broken"
    unchecked = [
        f"{file}:{line}"
        for file, line, text in updates
        if file not in CHECKED_ELSEWHERE and "transitions.moving(" not in text
    ]
    assert unchecked == []


def test_a_statement_the_table_does_not_allow_is_refused() -> None:
    with pytest.raises(ValueError, match="does not allow"):
        transitions.moving(
            col(DepositBatch.status),
            payment_models.BATCH_TRANSITIONS,
            [BatchStatus.DEPOSITED],
            BatchStatus.CLOSED,
        )


def test_the_cut_off_obeys_batch_transitions(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the table in its WHERE clause, the cut-off would close batches whatever the
    # table says; with it, a table that forbids open -> closed stops the statement.
    forbidding = dict(payment_models.BATCH_TRANSITIONS)
    forbidding[BatchStatus.OPEN] = frozenset()
    monkeypatch.setattr(batching, "BATCH_TRANSITIONS", forbidding)
    now = datetime(2026, 7, 6, 23, 45, tzinfo=UTC)
    with pytest.raises(ValueError, match="does not allow"):
        batching.close_batches(session, "ws_none", day=date(2026, 7, 6), now=now)
    assert list(session.scalars(select(DepositBatch))) == []


def test_sources_lists_what_may_reach_a_status() -> None:
    assert transitions.sources(payment_models.PAYMENT_TRANSITIONS, PaymentStatus.COMPLETED) == [
        s
        for s in sorted(PaymentStatus, key=str)
        if PaymentStatus.COMPLETED in payment_models.PAYMENT_TRANSITIONS[s]
    ]


@pytest.mark.smoke
def test_require_answers_invalid_transition() -> None:
    from portal.core.errors import InvalidTransition

    with pytest.raises(InvalidTransition):
        transitions.require(
            payment_models.BATCH_TRANSITIONS, "batch", BatchStatus.DEPOSITED, BatchStatus.OPEN
        )

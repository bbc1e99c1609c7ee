"""``portal check`` against the accounting system's own read-back (issue 16 "Scenario", issue 17
"Scenario"): what the portal says it delivered is what a reference eSite or MRI holds (``mri``
below).

For each AMSI integration with a connection, the eSite's admin API (``/_ref`` at the
connection URL's origin: a reference server; a real eSite has none, and is reported
unreachable) is read, and:

- ``esite_posted_once``: every payment the portal has as sent (AddPayment accepted) is in the
  eSite exactly once, with the portal's amount and journal;
- ``esite_journal_settled``: every journal the portal closed (UpdateSettlementData accepted)
  is settled on the eSite with the amount the portal sent, which is the journal's net;
- ``esite_unreachable``: the read-back could not be had.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth.models import Integration, IntegrationKind
from portal.core import http
from portal.core.money import format_cents
from portal.outbox.models import Delivery, DeliveryState, Topic
from portal.payments.check.base import Violation, scoped

from .mri import ledger as mri_ledger

TIMEOUT = 10.0


def _admin(connection: dict[str, Any]) -> str:
    url = urlsplit(str(connection.get("url") or ""))
    return f"{url.scheme}://{url.netloc}/_ref"


def _connected(
    session: Session, workspace_id: str | None, kind: IntegrationKind
) -> list[Integration]:
    return list(
        session.scalars(
            scoped(
                select(Integration).where(
                    col(Integration.kind) == kind,
                    col(Integration.connection).is_not(None),
                ),
                col(Integration.workspace_id),
                workspace_id,
            ).order_by(col(Integration.workspace_id), col(Integration.id))
        )
    )


def _sent(session: Session, integration: Integration) -> list[Delivery]:
    """The integration's deliveries the vendor accepted, in the order they were sent."""
    return list(
        session.scalars(
            select(Delivery)
            .where(
                col(Delivery.workspace_id) == integration.workspace_id,
                col(Delivery.integration_id) == integration.id,
                col(Delivery.state) == DeliveryState.SENT,
            )
            .order_by(col(Delivery.seq))
        )
    )


def _read(admin: str, portfolio: str, what: str) -> list[dict[str, Any]]:
    response = http.get(f"{admin}/portfolios/{quote(portfolio, safe='')}/{what}", timeout=TIMEOUT)
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def esite(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    for integration in _connected(session, workspace_id, IntegrationKind.AMSI):
        ws = integration.workspace_id
        connection = integration.connection or {}
        admin = _admin(connection)
        portfolio = str(connection.get("portfolio") or "")
        try:
            payments = _read(admin, portfolio, "payments")
            journals = {j["client_jnl_no"]: j for j in _read(admin, portfolio, "journals")}
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            yield Violation(
                ws,
                "esite_unreachable",
                f"integration {integration.id}",
                f"the eSite read-back at {admin} could not be read ({exc})",
            )
            continue
        posted: dict[str, list[dict[str, Any]]] = {}
        for p in payments:
            if p["amount"] and not p["amount"].startswith("-"):
                posted.setdefault(p["client_transaction_id"], []).append(p)
        sent = _sent(session, integration)
        for d in sent:
            if d.topic == Topic.PAYMENT.value:
                txn = str(d.facts.get("transaction_id"))
                found = posted.get(txn, [])
                amount = format_cents(int(d.facts["amount_cents"]))
                if len(found) != 1:
                    yield Violation(
                        ws,
                        "esite_posted_once",
                        f"payment {txn}",
                        f"sent once, found {len(found)} time(s) on the eSite",
                    )
                elif (found[0]["amount"], found[0]["client_jnl_no"]) != (amount, d.journal):
                    yield Violation(
                        ws,
                        "esite_posted_once",
                        f"payment {txn}",
                        f"sent {amount} to journal {d.journal}; the eSite has "
                        f"{found[0]['amount']} in journal {found[0]['client_jnl_no']}",
                    )
            elif d.topic == Topic.JOURNAL_CLOSE.value:
                journal = journals.get(str(d.journal))
                amount = format_cents(int(d.amount_cents or 0))
                settlement = (journal or {}).get("settlement") or {}
                if journal is None or not journal["settled"]:
                    yield Violation(
                        ws,
                        "esite_journal_settled",
                        f"journal {d.journal}",
                        "closed by the portal, not settled on the eSite",
                    )
                elif settlement.get("amount") != amount or journal["net"].lstrip("-") != amount:
                    yield Violation(
                        ws,
                        "esite_journal_settled",
                        f"journal {d.journal}",
                        f"settled with {amount}; the eSite's settlement is "
                        f"{settlement.get('amount')} and its net {journal['net']}",
                    )


def _read_mri(admin: str, property_id: str, what: str) -> list[dict[str, Any]]:
    response = http.get(f"{admin}/properties/{quote(property_id, safe='')}/{what}", timeout=TIMEOUT)
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def mri(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """For each MRI integration with a connection, a reference MRI's read-back (issue 17):

    - ``mri_posted_once``: every receipt the portal has as sent (a payment, a reversal's debit
      or a won dispute's credit) is in MRI exactly once under its ``ExternalTransactionNumber``,
      with the portal's signed amount and ``ExternalBatchID``;
    - ``mri_batch_closed``: every batch the portal closed is closed in MRI;
    - ``mri_unreachable``: the read-back could not be had.

    A receipt MRI holds that the portal voided since is not a violation: the landlord was told
    to void it by hand (seed 002), and may not have yet."""
    for integration in _connected(session, workspace_id, IntegrationKind.MRI):
        ws = integration.workspace_id
        admin = _admin(integration.connection or {})
        sent = _sent(session, integration)
        properties = sorted({str(d.facts.get("property_external_id")) for d in sent})
        receipts: dict[tuple[str, str], list[dict[str, Any]]] = {}
        batches: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            for prop in properties:
                for r in _read_mri(admin, prop, "receipts"):
                    receipts.setdefault((prop, r["external_transaction_number"]), []).append(r)
                for b in _read_mri(admin, prop, "batches"):
                    batches[(prop, b["external_batch_id"])] = b
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            yield Violation(
                ws,
                "mri_unreachable",
                f"integration {integration.id}",
                f"the MRI read-back at {admin} could not be read ({exc})",
            )
            continue
        for d in sent:
            prop = str(d.facts.get("property_external_id"))
            if d.topic == Topic.JOURNAL_CLOSE.value:
                batch = batches.get((prop, str(d.journal)))
                if batch is None or batch["state"] != "closed":
                    yield Violation(
                        ws,
                        "mri_batch_closed",
                        f"batch {d.journal} of property {prop}",
                        "closed by the portal, open or unknown in MRI",
                    )
                continue
            reversal = d.topic == Topic.REVERSAL.value
            own = str(d.facts["reversal_transaction_id" if reversal else "transaction_id"])
            number = mri_ledger.transaction_number(own, reversal=reversal)
            found = receipts.get((prop, number), [])
            amount = format_cents(int(d.facts["signed_amount_cents"]))
            if len(found) != 1:
                yield Violation(
                    ws,
                    "mri_posted_once",
                    f"receipt {number} (transaction {own})",
                    f"sent once, found {len(found)} time(s) in MRI",
                )
            elif (found[0]["amount"], found[0]["external_batch_id"]) != (amount, d.journal):
                yield Violation(
                    ws,
                    "mri_posted_once",
                    f"receipt {number} (transaction {own})",
                    f"sent {amount} to batch {d.journal}; MRI has {found[0]['amount']} in "
                    f"batch {found[0]['external_batch_id']}",
                )

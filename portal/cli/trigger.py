"""``portal trigger``: make something happen now on a running server, as the Stripe CLI's
``stripe trigger`` does, and print what it did.

- ``return R01 --payment ID``: the bank returns an ACH payment (``POST /v1/sandbox/workspaces/
  {ws}/payments/{id}/return``);
- ``chargeback --payment ID [--reason-code 10.4]``: the card network charges one back (``…/
  chargeback``);
- ``payment --resident EMAIL --password PW``: the resident pays now (``POST /v1/resident/login``
  then ``POST /v1/resident/payments``).

Then it reads back what happened through the ordinary GET routes: the reversal (its batch,
its ledger entries, the balance change), the payment (status, batch, deposit date; for a
reversal with a landlord login, ``--landlord``), and the e-mails the portal sent meanwhile (the
operator's mailbox).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from portal.cli.backend import AsJson, OperatorKey, Url
from portal.cli.output import USAGE, CliError, handled, interactive, out, print_json
from portal.cli.progress import spinner
from portal.cli.remote import DEFAULT_URL, HttpBackend

app = typer.Typer(
    help="Make something happen now on a running server (a return, a chargeback, a payment) "
    "and print what it did.",
    no_args_is_help=True,
)

Payment = Annotated[str, typer.Option("--payment", help="The payment's ID (pay_…).")]
Workspace = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        envvar="PORTAL_WORKSPACE",
        show_envvar=True,
        show_default=False,
        help="The payment's workspace (default: the server's only one).",
    ),
]
LandlordEmail = Annotated[
    str | None,
    typer.Option(
        "--landlord",
        envvar="PORTAL_LANDLORD_EMAIL",
        show_default=False,
        help="A landlord login of the workspace, to read the payment back (its status).",
    ),
]
LandlordPassword = Annotated[
    str | None,
    typer.Option(
        "--landlord-password",
        envvar="PORTAL_LANDLORD_PASSWORD",
        show_default=False,
        help="That login's password.",
    ),
]


def dollars(amount: str | None, *, signed: bool = False) -> str:
    """``"-22.00"`` -> ``-$22.00``; ``signed`` also shows ``+`` (a change)."""
    if amount is None:
        return "–"
    value = Decimal(amount)
    sign = "-" if value < 0 else "+" if signed and value > 0 else ""
    return f"{sign}${abs(value):,.2f}"


def workspace_of(api: HttpBackend, workspace: str | None) -> str:
    if workspace:
        return workspace
    ids = api.workspace_ids()
    if len(ids) == 1:
        return ids[0]
    listed = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
    raise CliError(
        f"{len(ids)} workspaces at {api.where}{f' ({listed})' if ids else ''}: pass --workspace "
        "(or set PORTAL_WORKSPACE)",
        USAGE,
    )


def mailbox(api: HttpBackend, workspace: str) -> list[dict[str, Any]]:
    emails: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = api.call("GET", f"{api.workspace_path(workspace)}/mailbox", params=params)
        emails += page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return emails


def landlord_payment(
    api: HttpBackend, email: str, password: str | None, payment_id: str
) -> dict[str, Any]:
    if not password:
        raise CliError("--landlord needs --landlord-password (or PORTAL_LANDLORD_PASSWORD)", USAGE)
    login = api.call("POST", "/v1/auth/login", json={"email": email, "password": password})
    detail: dict[str, Any] = api.call(
        "GET",
        f"/v1/payments/{payment_id}",
        headers={"Authorization": f"Bearer {login['access_token']}"},
    )
    return detail


def _reverse(
    url: str,
    operator_key: str | None,
    workspace: str | None,
    payment: str,
    action: str,
    body: dict[str, Any],
    landlord: tuple[str | None, str | None],
    as_json: bool,
) -> None:
    with handled():
        api = HttpBackend(url, operator_key)
        try:
            ws = workspace_of(api, workspace)
            before = {e["id"] for e in mailbox(api, ws)}
            with spinner(f"{action} of {payment} in {ws}", enabled=interactive(as_json)):
                reversal = api.call(
                    "POST", f"{api.workspace_path(ws)}/payments/{payment}/{action}", json=body
                )
            email, password = landlord
            detail = landlord_payment(api, email, password, payment) if email else None
            sent = [e for e in mailbox(api, ws) if e["id"] not in before]
        finally:
            api.close()
    if as_json:
        print_json({"workspace_id": ws, "reversal": reversal, "payment": detail, "emails": sent})
        return
    what = reversal.get("return_code") or reversal.get("reason_code") or ""
    name = reversal.get("return_name") or reversal.get("reason_name") or ""
    _line(f"{action} {what} ({name}) of payment {payment} in {ws} at {api.where}")
    _reversal_lines(reversal)
    if detail is not None:
        _payment_line(detail)
    else:
        _line("  payment   (pass --landlord and --landlord-password to read its status back)")
    _email_lines(sent)


def _reversal_lines(r: dict[str, Any]) -> None:
    batch = r.get("deposit_batch_id")
    placed = {
        "original_batch": f"in the payment's own deposit batch {batch}",
        "reversal_batch": f"in reversal batch {batch}",
    }.get(r.get("placement", ""), f"placement {r.get('placement')}")
    _line(
        f"  reversal  {r['id']} (transaction {r.get('transaction_id')}): "
        f"{dollars(r.get('amount'))} {r.get('reason', '')}, {placed}"
        + (f", business date {r['business_date']}" if r.get("business_date") else "")
    )
    change = dollars(r.get("balance_change"), signed=True)
    _line(f"  balance   {change} on lease {r.get('lease_id')}")
    for entry in r.get("ledger") or []:
        note = f" – {entry['note']}" if entry.get("note") else ""
        _line(f"  ledger    {entry.get('integration_kind')}: {entry.get('entry')}{note}")
    dispute = r.get("dispute")
    if dispute:
        _line(
            f"  dispute   {dispute['id']} {dispute.get('status')}, the landlord may answer "
            f"until {dispute.get('respond_by')}"
        )


def _payment_line(p: dict[str, Any]) -> None:
    batch = p.get("deposit_batch_id") or "no batch"
    deposit = f", deposit date {p['deposit_date']}" if p.get("deposit_date") else ""
    _line(
        f"  payment   {p['id']} {p.get('status')} ({p.get('status_label')}), "
        f"{dollars(p.get('amount'))}, business date {p.get('business_date')}, "
        f"batch {batch}{deposit}"
    )


def _email_lines(sent: list[dict[str, Any]] | None) -> None:
    if sent is None:
        _line("  e-mails   (give the operator key to list them)")
        return
    if not sent:
        _line("  e-mails   none")
    for email in sent:
        _line(f"  e-mail    {email['kind']} to {email['to']}: {email['subject']}")


def _line(text: str) -> None:
    from rich.markup import escape

    out.print(escape(text), soft_wrap=True, highlight=False)


@app.command("return")
def trigger_return(
    code: Annotated[str, typer.Argument(help="A NACHA return code, R01-R99.")],
    payment: Payment,
    workspace: Workspace = None,
    landlord: LandlordEmail = None,
    landlord_password: LandlordPassword = None,
    url: Url = DEFAULT_URL,
    operator_key: OperatorKey = None,
    as_json: AsJson = False,
) -> None:
    """The bank returns an ACH payment with CODE: inside its batch before the deposit, in a
    reversal batch after it."""
    _reverse(
        url,
        operator_key,
        workspace,
        payment,
        "return",
        {"code": code},
        (landlord, landlord_password),
        as_json,
    )


@app.command("chargeback")
def trigger_chargeback(
    payment: Payment,
    reason_code: Annotated[
        str, typer.Option(help="Visa (10.1-13.9) or Mastercard (4808-4871) reason code.")
    ] = "10.4",
    outcome: Annotated[
        str | None,
        typer.Option(help="won or lost: how the dispute ends if the landlord challenges it."),
    ] = None,
    workspace: Workspace = None,
    landlord: LandlordEmail = None,
    landlord_password: LandlordPassword = None,
    url: Url = DEFAULT_URL,
    operator_key: OperatorKey = None,
    as_json: AsJson = False,
) -> None:
    """The card network charges a card payment back; a dispute opens for the landlord."""
    body: dict[str, Any] = {"reason_code": reason_code}
    if outcome:
        body["outcome"] = outcome
    _reverse(
        url,
        operator_key,
        workspace,
        payment,
        "chargeback",
        body,
        (landlord, landlord_password),
        as_json,
    )


@app.command("payment")
def trigger_payment(
    resident: Annotated[str, typer.Option("--resident", help="The resident's e-mail (login).")],
    password: Annotated[
        str,
        typer.Option(
            "--password", envvar="PORTAL_RESIDENT_PASSWORD", help="The resident's password."
        ),
    ],
    amount: Annotated[
        str | None,
        typer.Option(help="Dollars, e.g. 1200.00 (default: what the lease lets them pay)."),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Payment source ID (default: their first active one).")
    ] = None,
    lease: Annotated[str | None, typer.Option(help="Lease ID (default: their only lease).")] = None,
    payment_type: Annotated[
        str, typer.Option("--type", help="rent, security_deposit, application_fee.")
    ] = "rent",
    on: Annotated[
        str | None, typer.Option("--date", help="A future day (YYYY-MM-DD) schedules it.")
    ] = None,
    workspace: Workspace = None,
    url: Url = DEFAULT_URL,
    operator_key: OperatorKey = None,
    as_json: AsJson = False,
) -> None:
    """A resident pays now (or on --date), as from the portal's payment page."""
    with handled():
        api = HttpBackend(url, operator_key)
        try:
            made, sent = _pay(
                api,
                resident,
                password,
                workspace,
                {"amount": amount, "source": source, "lease": lease},
                {"type": payment_type, **({"date": on} if on else {})},
                as_json=as_json,
            )
        finally:
            api.close()
    if as_json:
        print_json({"payment": made, "emails": sent})
        return
    _line(f"payment by {resident} in {made['workspace_id']} at {api.where}")
    _payment_line(made)
    _email_lines(sent)


def _pay(
    api: HttpBackend,
    email: str,
    password: str,
    workspace: str | None,
    chosen: dict[str, str | None],
    extra: dict[str, Any],
    *,
    as_json: bool,
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    login_body = {"email": email, "password": password}
    if workspace:
        login_body["workspace_id"] = workspace
    session = api.call("POST", "/v1/resident/login", json=login_body)
    ws = session["workspace_id"]
    as_resident = {"Authorization": f"Bearer {session['access_token']}"}
    leases = api.call("GET", "/v1/resident/leases", headers=as_resident)["data"]
    lease = _pick(leases, chosen["lease"], "lease", "--lease")
    sources = api.call("GET", "/v1/resident/payment-sources", headers=as_resident)["data"]
    active = [s for s in sources if s.get("status") == "active"] or sources
    source = _pick(active, chosen["source"], "payment source", "--source", first=True)
    amount = chosen["amount"] or (
        lease["payable_balance"] if Decimal(lease["payable_balance"]) > 0 else lease["rent"]
    )
    before = {e["id"] for e in mailbox(api, ws)} if api.operator_key else None
    with spinner(f"paying {dollars(amount)} as {email}", enabled=interactive(as_json)):
        made = api.call(
            "POST",
            "/v1/resident/payments",
            headers=as_resident,
            json={
                "lease_id": lease["id"],
                "payment_source_id": source["id"],
                "amount": amount,
                **extra,
            },
        )
    read: dict[str, Any] = api.call(
        "GET", f"/v1/resident/payments/{made['id']}", headers=as_resident
    )
    read["workspace_id"] = ws
    sent = None if before is None else [e for e in mailbox(api, ws) if e["id"] not in before]
    return read, sent


def _pick(
    rows: list[dict[str, Any]], wanted: str | None, what: str, option: str, *, first: bool = False
) -> dict[str, Any]:
    if wanted:
        for row in rows:
            if row["id"] == wanted:
                return row
        raise CliError(f"the resident has no {what} {wanted!r}", USAGE)
    if not rows:
        raise CliError(f"the resident has no {what} to pay with", USAGE)
    if len(rows) > 1 and not first:
        ids = ", ".join(r["id"] for r in rows)
        raise CliError(f"the resident has several: pass {option} ({ids})", USAGE)
    return rows[0]

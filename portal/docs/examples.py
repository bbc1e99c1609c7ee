"""Request-body examples for Swagger UI's "Try it out" and ReDoc (issue 18, stumble 7).

The first example of each operation is the one Swagger UI fills in. Together they are a
**walkthrough that works as is**, in this order, on a fresh server: create workspace
``ws_demo`` (seed 42, clock 2026-07-02 10:00 New York, landlord ``landlord@demo.example`` /
``demo-landlord-pass``); log in as that landlord; create a property, its unit, its rent deposit
account; a resident signs up for the unit and the landlord approves them (manual); the resident
logs in, adds a bank account and pays. IDs are a pure function of the workspace seed and of
creation order (architecture.md §5), so the IDs in the bodies (``prop_qp2a3d5angfx``,
``unit_qhmeretz5a53``, ``lease_kqqr5mmkg4hm``, ``src_2qy1ncnqdda4`` …) are the ones those
calls mint in ``ws_demo``; an example's description says which earlier call an ID comes from,
to replace it when working in another workspace. ``portal_tests/docs/test_examples.py`` sends
the walkthrough and checks every example against its body's schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The walkthrough's world (see the module docstring); the IDs are those it mints in this order.
WORKSPACE_ID = "ws_demo"
LANDLORD_EMAIL = "landlord@demo.example"
LANDLORD_PASSWORD = "demo-landlord-pass"
RESIDENT_EMAIL = "lucia.baca@example.com"
RESIDENT_PASSWORD = "lucia-demo-pass"
PROPERTY_ID = "prop_qp2a3d5angfx"
UNIT_ID = "unit_qhmeretz5a53"
RESIDENT_ID = "res_fkmw08n1z23j"
LEASE_ID = "lease_kqqr5mmkg4hm"
SOURCE_ID = "src_2qy1ncnqdda4"

_FROM_WALKTHROUGH = (
    "The IDs are those the walkthrough mints in workspace `ws_demo` (see the first example of "
    "`create_workspace`); elsewhere, use "
)


@dataclass(frozen=True)
class Example:
    summary: str
    value: Any
    description: str = ""

    def as_openapi(self) -> dict[str, Any]:
        out: dict[str, Any] = {"summary": self.summary, "value": self.value}
        if self.description:
            out["description"] = self.description
        return out


def _ids(where: str) -> str:
    return _FROM_WALKTHROUGH + where + "."


#: A scenario file (any file of seed_data/ is one), for both scenario routes.
_SCENARIO = Example(
    "A property with two units and its rent account",
    {
        "version": 1,
        "scenario": "swagger-demo",
        "description": "One property with two units and a rent deposit account.",
        "properties": [
            {
                "key": "elm",
                "name": "Elm Court",
                "external_id": "ELM",
                "address": {
                    "street": "200 Elm Court",
                    "city": "Albuquerque",
                    "state": "NM",
                    "postal_code": "87102",
                },
                "units": [
                    {"key": "elm-1", "name": "Elm 1", "external_id": "E1"},
                    {"key": "elm-2", "name": "Elm 2", "external_id": "E2"},
                ],
            }
        ],
        "deposit_accounts": [
            {
                "key": "elm-rent",
                "type": "rent",
                "name": "Elm Court rent",
                "routing_number": "110000000",
                "account_number": "000222333444",
                "properties": ["elm"],
            }
        ],
    },
    "The body is a scenario file: every file of `seed_data/` can be sent as it is. "
    "This one loads into any workspace once (the property's `external_id` is then "
    "taken).",
)


#: operationId -> named examples, the first filled in by Swagger UI.
EXAMPLES: dict[str, dict[str, Example]] = {
    # --- the tester (operator key) --------------------------------------------------------------
    "create_workspace": {
        "walkthrough": Example(
            "The walkthrough's workspace, with a known landlord login",
            {
                "id": WORKSPACE_ID,
                "name": "Demo",
                "seed": 42,
                "clock": {"mode": "simulated", "now": "2026-07-02T14:00:00Z"},
                "landlord": {
                    "email": LANDLORD_EMAIL,
                    "password": LANDLORD_PASSWORD,
                    "name": "Demo Landlord",
                },
            },
            "Succeeds once per server: a second send is 409 `workspace_exists` (delete it, or "
            "change `id`), and a landlord e-mail belongs to one workspace (409 `email_taken`). "
            "The other examples' IDs are the ones the walkthrough mints here.",
        ),
        "minimal": Example(
            "Any new workspace (ID, seed and landlord login minted; the password is shown once)",
            {"name": "Sandbox"},
        ),
        "settings": Example(
            "A workspace with its own policies",
            {
                "name": "Two payments a day",
                "clock": {"now": "2026-07-02T14:00:00Z"},
                "settings": {
                    "cutoff_time": "19:45",
                    "payments_per_resident_per_day": 2,
                    "late_payment_grace_days": 5,
                },
            },
        ),
    },
    "advance_clock": {
        "one_day": Example("One day (ISO 8601 duration)", {"by": "P1D"}),
        "banking_days": Example(
            "Two banking days (weekends and Fed holidays skipped)", {"banking_days": 2}
        ),
        "to_instant": Example(
            "To an instant",
            {"to": "2026-08-01T12:00:00Z"},
            "The clock only moves forward: an instant before the workspace clock is 409 "
            "`clock_backwards`.",
        ),
    },
    "verify_journal": {
        "polled": Example(
            "The client read a receipt batch at least once",
            {"request": {"method": "GET", "path": "/v1/integration/receipt-batches/*"}},
            "`path` is a glob: `*` within one segment, `**` across segments.",
        ),
        "no_errors": Example(
            "The client's calls never failed", {"request": {"status": "4xx"}, "exactly": 0}
        ),
    },
    "verify_operator_journal": {
        "no_forged_token": Example(
            "No unknown or forged token was sent",
            {"request": {"code": "token_invalid"}, "at_most": 0},
        ),
    },
    "load_scenario": {
        "small": _SCENARIO,
    },
    "create_workspace_from_scenario": {
        "small": _SCENARIO,
    },
    "return_payment": {
        "r01": Example(
            "Insufficient funds (R01)",
            {"code": "R01"},
            "The path names an ACH payment that is processing or completed (`GET /v1/payments`).",
        ),
        "r10": Example("Unauthorized debit (R10; flags the resident)", {"code": "R10"}),
    },
    "charge_back_payment": {
        "visa_fraud": Example(
            "Visa 10.4 (card-absent fraud)",
            {"reason_code": "10.4"},
            "The path names a card payment that is processing or completed.",
        ),
        "lost": Example(
            "Mastercard 4837, lost if challenged",
            {"reason_code": "4837", "outcome": "lost"},
        ),
    },
    # --- the landlord -------------------------------------------------------------------------
    "login": {
        "walkthrough": Example(
            "The walkthrough's landlord",
            {"email": LANDLORD_EMAIL, "password": LANDLORD_PASSWORD},
            "The login `create_workspace`'s first example sets. Use `access_token` as the "
            "LandlordSession; it lasts 60 minutes of workspace time.",
        ),
        "oak_street": Example(
            "The Oak Street scenario's landlord (seed_data/oak-street-landlord12.json)",
            {"email": "manager@oakstreet.example", "password": "oak-street-demo"},
        ),
    },
    "create_integration": {
        "landlord12": Example(
            "A Landlord 12 client",
            {
                "name": "Landlord 12 - Oak Street",
                "kind": "landlord12",
                "features": ["maintenance_coordination"],
                "processing_options": {"sync_daily": True, "send_after_deposit_slip": True},
            },
            "Then `POST /v1/integrations/{integration_id}/tokens` mints its token.",
        ),
        "inosio_lockbox": Example(
            "An Inosio-flavoured client with Promas lockbox files",
            {
                "name": "Landlord 12 - Inosio",
                "kind": "landlord12",
                "flavor": "inosio",
                "lockbox_format": "promas",
                "features": ["applicant_screening", "maintenance_coordination"],
            },
        ),
    },
    "update_integration": {
        "rename": Example(
            "Rename it and turn on applicant screening",
            {
                "name": "Landlord 12 - Oak Street (main)",
                "features": ["applicant_screening", "maintenance_coordination"],
            },
        ),
    },
    "create_property": {
        "walkthrough": Example(
            "A property",
            {
                "name": "Oak Street",
                "address": {
                    "street": "2118 Oak Street",
                    "city": "Albuquerque",
                    "state": "NM",
                    "postal_code": "87120",
                },
            },
            f"The walkthrough's property: in `ws_demo` it is `{PROPERTY_ID}`.",
        ),
        "with_accounting_id": Example(
            "With the accounting system's property ID (unique in the workspace)",
            {
                "name": "Candelaria Court",
                "external_id": "CAND",
                "address": {
                    "street": "5001 Candelaria Rd NE",
                    "city": "Albuquerque",
                    "state": "NM",
                },
            },
        ),
    },
    "update_property": {
        "rename": Example("Rename it", {"name": "Oak Street Homes", "post_reversals": True}),
    },
    "create_unit": {
        "walkthrough": Example(
            "A unit",
            {"name": "2118 Oak Street", "external_id": "2118"},
            f"Unit names and external IDs are unique in the property. In `ws_demo` under "
            f"`{PROPERTY_ID}` this is `{UNIT_ID}`.",
        ),
    },
    "create_deposit_account": {
        "walkthrough": Example(
            "The property's rent account",
            {
                "type": "rent",
                "name": "Oak Street rent",
                "routing_number": "110000000",
                "account_number": "000123456789",
                "property_ids": [PROPERTY_ID],
            },
            _ids("the `id` of `POST /v1/properties`")
            + " A property has one account of each type (409 `deposit_account_type_taken`).",
        ),
    },
    "create_webhook_endpoint": {
        "receiver": Example(
            "A local receiver of every payment event, with duplicates and reordering",
            {
                "url": "http://127.0.0.1:9000/hooks",
                "event_types": ["payment.created", "payment.completed", "payment.returned"],
                "description": "my test receiver",
                "disable_after": 5,
                "chaos": {"duplicate_percent": 20, "reorder_window_seconds": 300, "seed": 7},
            },
            "Loopback and the hosts of `PORTAL_WEBHOOK_ALLOWED_HOSTS` only. The answer holds the "
            "signing secret, shown this once.",
        ),
    },
    "update_webhook_endpoint": {
        "enable": Example(
            "Turn a disabled endpoint back on",
            {"enabled": True},
            "Its count of failed deliveries starts again; resend what it missed.",
        ),
    },
    "resend_webhook_events": {
        "failed": Example(
            "Everything that failed since an instant",
            {"failed_since": "2026-07-02T00:00:00Z"},
            'Workspace time. Or `{"event_id": "ev_..."}` for one event.',
        ),
    },
    "replace_deposit_account_properties": {
        "walkthrough": Example(
            "The properties this account serves",
            {"property_ids": [PROPERTY_ID]},
            _ids("the `id`s of `GET /v1/properties`"),
        ),
    },
    "invite_resident": {
        "invite": Example(
            "Invite a resident to a unit",
            {
                "name": "Anthony Kmetz",
                "email": "anthony.kmetz@example.com",
                "unit_id": UNIT_ID,
                "rent": "1200.00",
                "start_date": "2026-07-01",
                "due_day": 1,
            },
            _ids("the `id` of `POST /v1/properties/{property_id}/units`")
            + " The invitation e-mail (with `data.invite_code`) is in the mailbox.",
        ),
    },
    "update_resident": {
        "phone": Example("Correct the phone number", {"phone": "505-555-0142"}),
    },
    "approve_resident": {
        "manual": Example(
            "Approve with a lease the landlord types in",
            {"mode": "manual", "lease_start": "2026-07-01", "rent": "1200.00", "due_day": 1},
            f"In the walkthrough, the resident who signed up (`{RESIDENT_ID}` in the path); "
            f"their lease is `{LEASE_ID}`.",
        ),
        "sync": Example(
            "Approve from the accounting system's record",
            {"mode": "sync"},
            "Needs an accounting record for the resident (sent by the client's balances); "
            "otherwise 409 `no_accounting_match`.",
        ),
        "merge": Example(
            "Approve by merging into an existing resident",
            {"mode": "merge", "merge_with": RESIDENT_ID},
            _ids("the `id` of another resident (`GET /v1/residents`)"),
        ),
    },
    "merge_resident": {
        "merge": Example(
            "Merge into another resident",
            {"merge_with": RESIDENT_ID},
            _ids("the `id` of the resident to keep (`GET /v1/residents`)"),
        ),
    },
    "update_lease": {
        "rent": Example("Raise the rent", {"rent": "1250.00"}),
        "block": Example("Block online payments", {"payments": "blocked"}),
    },
    "end_lease": {
        "uncollected": Example(
            "End it with a balance left unpaid",
            {"uncollected_balance": "150.00"},
            "An empty body (or `{}`) ends it with nothing owed.",
        ),
    },
    "create_work_order": {
        "work_order": Example(
            "A work order for a property",
            {
                "description": "Replace the smoke detector battery in the hallway.",
                "name": "Hallway smoke detector",
                "priority": "Normal",
                "property_id": PROPERTY_ID,
            },
            _ids("the `id` of `POST /v1/properties`"),
        ),
    },
    "update_work_order": {
        "vendor": Example(
            "A vendor is on it",
            {"status": "vendor_notified", "vendor": "ABC Plumbing", "estimate": "150.00"},
            "Status changes follow the work order's transition table (409 `invalid_transition`).",
        ),
    },
    "update_application": {
        "move_in": Example("Another move-in date", {"desired_move_in": "2026-09-01"}),
    },
    "update_applicant": {
        "income": Example(
            "Correct the income", {"monthly_income": "4200.00", "phone": "505-555-0199"}
        ),
    },
    "decide_applicants": {
        "approve": Example("Approve the application", {"decision": "approve"}),
        "deny": Example(
            "Deny it, with the adverse-action reasons",
            {"decision": "deny", "reasons": ["Insufficient income"]},
        ),
    },
    "challenge_dispute": {
        "challenge": Example(
            "Challenge with evidence",
            {"evidence": "Signed lease and the resident's payment authorization."},
            "Evidence containing `losing_evidence` loses the dispute; anything else wins.",
        ),
    },
    # --- residents ----------------------------------------------------------------------------
    "signup": {
        "walkthrough": Example(
            "A resident signs up for a unit",
            {
                "workspace_id": WORKSPACE_ID,
                "property_id": PROPERTY_ID,
                "unit_id": UNIT_ID,
                "name": "Lucia Baca",
                "email": RESIDENT_EMAIL,
                "password": RESIDENT_PASSWORD,
                "phone": "505-555-0101",
            },
            _ids("the property and unit IDs of `POST /v1/properties` and its units")
            + f" The resident (`{RESIDENT_ID}`) waits for the landlord's approval.",
        ),
    },
    "resident_login": {
        "walkthrough": Example(
            "The walkthrough's resident",
            {"email": RESIDENT_EMAIL, "password": RESIDENT_PASSWORD, "workspace_id": WORKSPACE_ID},
            "Use `access_token` as the ResidentSession. `workspace_id` is needed only when the "
            "e-mail has an account in several workspaces.",
        ),
        "oak_street": Example(
            "A resident of the Oak Street scenario",
            {
                "email": "anthony.kmetz@example.com",
                "password": "kmetz-demo-pass",
                "workspace_id": "ws_oak_street",
            },
        ),
    },
    "accept_invite": {
        "accept": Example(
            "Choose a password",
            {"password": "resident-demo-pass"},
            "The invite code (path) is in the invitation e-mail: the mailbox's `data.invite_code`.",
        ),
    },
    "add_payment_source": {
        "bank_account": Example(
            "A checking account",
            {
                "type": "bank_account",
                "routing_number": "110000000",
                "account_number": "000123456789",
            },
            f"In the walkthrough this is `{SOURCE_ID}`.",
        ),
        "card": Example(
            "A card that is approved",
            {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2030},
        ),
        "returned_ach": Example(
            "A bank account whose payments are returned R01 after the deposit",
            {"type": "bank_account", "routing_number": "110000000", "account_number": "1000000001"},
            "Sandbox magic value: account `10000000NN` is returned with `RNN`.",
        ),
        "declined_card": Example(
            "A card the issuer declines (402 `card_declined` when paying)",
            {"type": "card", "number": "4000000000000002", "exp_month": 12, "exp_year": 2030},
        ),
    },
    "make_payment": {
        "walkthrough": Example(
            "Pay this month's rent",
            {
                "lease_id": LEASE_ID,
                "payment_source_id": SOURCE_ID,
                "amount": "1200.00",
                "type": "rent",
            },
            _ids("`GET /v1/resident/leases` and `GET /v1/resident/payment-sources`")
            + " Send an `Idempotency-Key` to retry safely.",
        ),
        "scheduled": Example(
            "Schedule a payment for a later date",
            {
                "lease_id": LEASE_ID,
                "payment_source_id": SOURCE_ID,
                "amount": "1200.00",
                "type": "rent",
                "date": "2026-08-01",
            },
        ),
    },
    "add_recurring_payment": {
        "autopay": Example(
            "Autopay on the 1st until June 2027",
            {
                "lease_id": LEASE_ID,
                "payment_source_id": SOURCE_ID,
                "amount": "1200.00",
                "type": "rent",
                "day_of_month": 1,
                "end_month": "2027-06",
            },
            _ids("`GET /v1/resident/leases` and `GET /v1/resident/payment-sources`"),
        ),
    },
    "report_work_order": {
        "leak": Example(
            "Report a leak",
            {"description": "The kitchen sink is leaking under the cabinet.", "priority": "High"},
            "For the resident's active lease (send `lease_id` when there are several).",
        ),
    },
    "apply": {
        "application": Example(
            "Apply for a unit",
            {
                "unit_id": UNIT_ID,
                "desired_move_in": "2026-08-01",
                "applicants": [
                    {
                        "name": "Daniel Montoya",
                        "email": "daniel.montoya@example.com",
                        "type": "Applicant",
                        "monthly_income": "4800.00",
                        "employer": "Sandia Labs",
                    }
                ],
            },
            _ids("the `id` of a unit (`GET /v1/properties/{property_id}/units`)"),
        ),
    },
    # --- the accounting client (integration token) -----------------------------------------------
    "send_balances": {
        "two_residents": Example(
            "Balances of two residents",
            {
                "residents": [
                    {
                        "resident_id": "t0001234",
                        "property_id": "OAK",
                        "unit_id": "2118",
                        "unit": "2118 Oak Street",
                        "name": "Anthony Kmetz",
                        "email": "anthony.kmetz@example.com",
                        "balance": "0.00",
                        "rent": "1200.00",
                    },
                    {
                        "resident_id": "t0001235",
                        "property_id": "OAK",
                        "unit_id": "2120",
                        "unit": "2120 Oak Street",
                        "name": "Jerry Rodriguez",
                        "balance": "980.00",
                        "rent": "980.00",
                    },
                ],
                "bank_account": {"routing_number": "110000000", "account_number": "000123456789"},
            },
            "IDs are the accounting system's own: properties and units are created or matched "
            "by them.",
        ),
    },
}

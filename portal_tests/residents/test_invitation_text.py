"""The invitation e-mail, word for word, on every path that invites (issue 18 item 9: a change to
the intake's copy of the invitation text survived, because the tests compared the intake's
e-mail with the landlord's, and both came from the same function).

Each path is compared with the expected e-mail itself, not with another path: the landlord's
invite, an intake's new resident, an intake's waiting resident whose e-mail arrives, and the
landlord adding an e-mail to a waiting resident.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from portal_tests.balances.helpers import sent
from portal_tests.balances.test_router import Client12, connect, line
from portal_tests.residents.helpers import invite, mailbox, make_unit

SUBJECT = "Your property manager is inviting you to pay online"
NAME, EMAIL = "Rita Moreno", "rita@example.com"


def expected(code: str, resident_id: str, lease_id: str) -> dict[str, Any]:
    return {
        "to": EMAIL,
        "subject": SUBJECT,
        "kind": "invitation",
        "body": (
            f"Hello {NAME}, your property manager invites you to pay rent online. "
            f"Your invite code is {code}."
        ),
        "data": {"invite_code": code, "resident_id": resident_id, "lease_id": lease_id},
        "attachments": [],
    }


def the_invitation(client: TestClient, c: Client12) -> dict[str, Any]:
    [mail] = mailbox(client, c.world, kind="invitation")
    return {k: v for k, v in mail.items() if k not in ("id", "sent_at")}


def the_resident(client: TestClient, c: Client12) -> tuple[str, str]:
    response = client.get("/v1/residents", headers=c.world.landlord)
    assert response.status_code == 200, response.text
    [resident] = [r for r in response.json()["data"] if r["name"] == NAME]
    return resident["id"], resident["lease_ids"][0]


class TestTheInvitationEmail:
    def test_the_landlords_invite(self, client: TestClient) -> None:
        c = connect(client)
        unit = make_unit(client, c.world)

        invite(client, c.world, unit["id"], name=NAME, email=EMAIL)

        mail = the_invitation(client, c)
        code = mail["data"]["invite_code"]
        assert mail == expected(code, *the_resident(client, c))

    def test_an_intakes_new_resident(self, client: TestClient) -> None:
        c = connect(client)

        sent(client, c, [line("t0001", name=NAME, email=EMAIL)])

        mail = the_invitation(client, c)
        code = mail["data"]["invite_code"]
        assert mail == expected(code, *the_resident(client, c))

    def test_an_intakes_waiting_resident_whose_email_arrives(self, client: TestClient) -> None:
        c = connect(client)
        sent(client, c, [line("t0001", name=NAME, email=None)])
        assert mailbox(client, c.world, kind="invitation") == []

        sent(client, c, [line("t0001", name=NAME, email=EMAIL)])

        mail = the_invitation(client, c)
        code = mail["data"]["invite_code"]
        assert mail == expected(code, *the_resident(client, c))

    def test_the_landlord_adding_an_email_to_a_waiting_resident(self, client: TestClient) -> None:
        c = connect(client)
        unit = make_unit(client, c.world)
        waiting = invite(client, c.world, unit["id"], name=NAME, email=None)

        patched = client.patch(
            f"/v1/residents/{waiting['id']}", json={"email": EMAIL}, headers=c.world.landlord
        )

        assert patched.status_code == 200, patched.text
        mail = the_invitation(client, c)
        code = mail["data"]["invite_code"]
        assert mail == expected(code, waiting["id"], waiting["lease_ids"][0])

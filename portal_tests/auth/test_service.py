"""Business rules of ``portal.auth.service``: passwords, token issue, server secrets."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service
from portal.auth.models import Integration, IntegrationKind, IntegrationToken, ServerSecret
from portal.core.clock import ClockMode, FixedClock
from portal.workspaces import service as workspaces_service

START = datetime(2026, 7, 2, 14, 0, tzinfo=UTC)
KEY = "service-test-signing-key"


def make_integration(session: Session, workspace_id: str, *, seed: int = 7) -> Integration:
    ws = workspaces_service.create_workspace(
        session,
        workspace_id=workspace_id,
        name="Service test",
        seed=seed,
        clock_mode=ClockMode.SIMULATED,
        start=START,
        settings={},
        now=START,
    )
    return service.create_integration(
        session,
        workspaces_service.minter(ws, session),
        name="Landlord 12",
        kind=IntegrationKind.LANDLORD12,
        features=[],
        processing_options={},
        now=START,
    )


def issue(
    session: Session, integration: Integration, now: datetime
) -> tuple[IntegrationToken, str]:
    ws = workspaces_service.get_workspace(session, integration.workspace_id)
    return service.issue_token(
        session, workspaces_service.minter(ws, session), integration, key=KEY, now=now
    )


def tokens_of(session: Session, integration: Integration) -> list[IntegrationToken]:
    return list(
        session.scalars(
            select(IntegrationToken)
            .where(
                col(IntegrationToken.workspace_id) == integration.workspace_id,
                col(IntegrationToken.integration_id) == integration.id,
            )
            .order_by(col(IntegrationToken.created_at))
        )
    )


class TestHashPassword:
    @pytest.mark.smoke
    def test_hashes_are_salted(self) -> None:
        first = service.hash_password("correct horse battery staple")
        second = service.hash_password("correct horse battery staple")

        assert first != second
        assert service.verify_password("correct horse battery staple", first)
        assert service.verify_password("correct horse battery staple", second)

    def test_hash_does_not_contain_the_password(self) -> None:
        stored = service.hash_password("correct horse battery staple")

        assert "correct horse battery staple" not in stored
        assert stored.startswith("scrypt$")

    @pytest.mark.parametrize(
        "attempt", ["correct horse battery stapl", "Correct horse battery staple", ""]
    )
    def test_wrong_password_fails(self, attempt: str) -> None:
        stored = service.hash_password("correct horse battery staple")

        assert service.verify_password(attempt, stored) is False

    @pytest.mark.parametrize(
        "stored",
        [
            "",
            "not-a-hash",
            "scrypt$16384$c2FsdA==",
            "scrypt$16384$c2FsdA==$ZGlnZXN0$extra",
            "scrypt$many$c2FsdA==$ZGlnZXN0",
            "scrypt$3$c2FsdA==$ZGlnZXN0",
            "scrypt$16384$c2Fsd$ZGlnZXN0",
            "scrypt$16384$c2FsdA==$ZGlnZXN",
            "scrypt$16384$sé$ZGlnZXN0",
            "scrypt$-1$c2FsdA==$ZGlnZXN0",
            f"scrypt${2**100}$c2FsdA==$ZGlnZXN0",
        ],
        ids=[
            "empty",
            "no-fields",
            "three-fields",
            "five-fields",
            "n-not-a-number",
            "n-not-a-power-of-two",
            "salt-bad-padding",
            "digest-bad-padding",
            "salt-not-ascii",
            "n-negative",
            "n-huge",
        ],
    )
    def test_malformed_stored_hash_is_false_not_an_error(self, stored: str) -> None:
        assert service.verify_password("password", stored) is False


class TestIssueToken:
    def test_three_issues_leave_exactly_one_active_token(self, session: Session) -> None:
        integration = make_integration(session, "ws_service_a")

        issued = [issue(session, integration, START + timedelta(minutes=n)) for n in range(3)]

        rows = tokens_of(session, integration)
        assert len(rows) == 3
        active = [row for row in rows if row.active]
        assert [row.id for row in active] == [issued[-1][0].id]
        assert active[0].revoked_at is None
        assert [row.revoked_at for row in rows if not row.active] == [
            START + timedelta(minutes=1),
            START + timedelta(minutes=2),
        ]

    def test_stores_the_sha256_and_last4_only(self, session: Session) -> None:
        integration = make_integration(session, "ws_service_a")

        row, token = issue(session, integration, START)

        stored = session.get(IntegrationToken, (integration.workspace_id, row.id))
        assert stored is not None
        assert stored.digest == hashlib.sha256(token.encode()).hexdigest()
        assert stored.last4 == token[-4:]
        assert token not in {stored.id, stored.digest, stored.integration_id}

    def test_leaves_the_same_integration_id_of_another_workspace_alone(
        self, session: Session
    ) -> None:
        mine = make_integration(session, "ws_service_a", seed=7)
        twin = make_integration(session, "ws_service_b", seed=7)
        assert mine.id == twin.id  # the same seed mints the same IDs
        twin_row, _ = issue(session, twin, START)

        issue(session, mine, START + timedelta(minutes=1))

        assert [row.active for row in tokens_of(session, twin)] == [True]
        assert twin_row.id == tokens_of(session, twin)[0].id

    def test_new_token_authenticates_and_the_old_one_is_revoked(self, session: Session) -> None:
        integration = make_integration(session, "ws_service_a")
        _, old = issue(session, integration, START)
        _, new = issue(session, integration, START)

        system = FixedClock(START)  # the workspace clock is simulated; any process clock does
        caller = service.authenticate_integration(session, new, key=KEY, system=system)
        assert caller.integration.id == integration.id
        with pytest.raises(service.TokenRevoked):
            service.authenticate_integration(session, old, key=KEY, system=system)


class TestEnsureSecret:
    def test_configured_value_is_returned(self, session: Session) -> None:
        assert service.ensure_secret(session, "test_secret", "from-settings") == "from-settings"

    def test_configured_value_wins_over_a_stored_one(self, session: Session) -> None:
        stored = service.ensure_secret(session, "test_secret", None)

        configured = service.ensure_secret(session, "test_secret", "from-settings")

        assert configured == "from-settings"
        assert stored != configured

    def test_generated_once_then_the_stored_value_is_returned(self, session: Session) -> None:
        first = service.ensure_secret(session, "test_secret", None)
        second = service.ensure_secret(session, "test_secret", None)

        assert first
        assert second == first
        row = session.get(ServerSecret, "test_secret")
        assert row is not None
        assert row.value == first

    def test_each_name_gets_its_own_secret(self, session: Session) -> None:
        one = service.ensure_secret(session, "test_secret_one", None)
        other = service.ensure_secret(session, "test_secret_two", None)

        assert one != other

    def test_empty_configured_value_counts_as_unset(self, session: Session) -> None:
        generated = service.ensure_secret(session, "test_secret", "")

        assert generated
        assert service.ensure_secret(session, "test_secret", None) == generated

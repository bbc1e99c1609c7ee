"""Login, tokens and principals (architecture.md §6).

Tokens are JWTs signed HS256 with the server's key; decoding pins the algorithm, so ``alg:
none`` and other algorithms are refused. Time-based claims are checked here against the
*workspace* clock, not by the JWT library against the system time: a landlord session expires
when the operator advances the workspace past ``exp``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from portal.auth.models import (
    Feature,
    Integration,
    IntegrationKind,
    IntegrationToken,
    LandlordUser,
    PortalFlavor,
    ServerSecret,
)
from portal.auth.schemas import (
    ConnectionIn,
    MriConnectionIn,
    ProcessingOptions,
    connection_refusal,
)
from portal.core.clock import Clock, ClockMode, workspace_now
from portal.core.db import RawReader, get_row
from portal.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    Unauthorized,
    Unprocessable,
)
from portal.core.ids import IdMinter, new_salt, new_secret
from portal.core.pagination import keyset
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

log = logging.getLogger("portal.auth")

ALGORITHM = "HS256"
ISSUER = "portal"
#: scrypt's cost: ``n`` (CPU and memory, 16 MiB at 2**14 with ``r=8``) is the production cost
#: and the ceiling a stored hash may ask of ``verify_password``. New hashes are made at the
#: configured cost (``Settings.password_hash_cost``, ``set_password_hash_cost``); a hash records
#: its ``n``, so one made at a lower cost still verifies.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MAX_PASSWORD_HASH_COST = _SCRYPT["n"]
_hash_cost = MAX_PASSWORD_HASH_COST


class TokenInvalid(Unauthorized):
    code = "token_invalid"


class TokenExpired(Unauthorized):
    code = "token_expired"


class TokenRevoked(Unauthorized):
    code = "token_revoked"

    #: ``(workspace, integration, instant)`` of a superseded integration token, so the refusal
    #: can be kept as that integration's last error (the client's "Show Last Error").
    caller: tuple[str, str, str] | None = None


class FeatureNotEnabled(Forbidden):
    """The integration's feed needs a feature it does not have (seed S4 "Enabled Features")."""

    code = "feature_not_enabled"


def require_feature(features: list[str], feature: Feature, what: str) -> None:
    """403 unless ``feature`` is among the integration's enabled ``features`` (the row's, read
    on every call: a landlord's PATCH takes effect at once, with no new token). The refusal is
    a sentence naming the feature in words (issue 15: it showed ``Feature.X``)."""
    if feature.value not in features:
        raise FeatureNotEnabled(
            f"{what}: the {feature.label} feature is not enabled for this integration. Once it "
            f"is signed up for, the landlord enables it (PATCH /v1/integrations/{{id}} with "
            f'"{feature.value}" in "features").',
            extra={"feature": feature.value},
        )


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class IntegrationNotFound(NotFound):
    code = "integration_not_found"


class TokenNotFound(NotFound):
    code = "token_not_found"


class EmailTaken(Conflict):
    code = "email_taken"


# --- server secrets ---------------------------------------------------------------------------


def ensure_secret(session: Session, name: str, configured: str | None) -> str:
    """The configured value, else the stored one, else a new one stored now (first start).

    A configured secret (``PORTAL_SECRET_KEY``, ``PORTAL_OPERATOR_KEY``) is never written to
    the database, and one stored before is deleted: the database holds a secret only while the
    server generated it and uses it, so a copy or backup of it carries no key in use, nor an
    old one that would come back if the setting were removed (docs/decisions.md, Auth)."""
    if configured:
        # A plain DELETE: workers starting together may both run it (no stale-row error).
        gone = session.execute(delete(ServerSecret).where(col(ServerSecret.name) == name))
        if gone.rowcount:  # type: ignore[attr-defined]
            log.warning(
                "server secret %r is configured: the generated one stored in the database was "
                "deleted (credentials made with it are no longer accepted)",
                name,
            )
        return configured
    row = session.get(ServerSecret, name)
    if row is None:
        row = ServerSecret(name=name, value=new_secret())
        session.add(row)
        session.flush()
    return row.value


# --- passwords --------------------------------------------------------------------------------


def check_password_hash_cost(n: int) -> int:
    """``n`` if it is a cost ``verify_password`` takes (a power of two, 2 to 2**14)."""
    if not 2 <= n <= MAX_PASSWORD_HASH_COST or n & (n - 1):
        raise ValueError(
            f"the scrypt cost must be a power of two from 2 to {MAX_PASSWORD_HASH_COST}, not {n}"
        )
    return n


def set_password_hash_cost(n: int) -> None:
    """Make new password hashes at scrypt cost ``n`` (process-wide; the app factory applies
    ``Settings.password_hash_cost``). Only tests lower it: the full cost is ~70 ms a hash."""
    global _hash_cost
    _hash_cost = check_password_hash_cost(n)


def password_hash_cost() -> int:
    """The scrypt cost new password hashes are made at."""
    return _hash_cost


#: scrypt cost of the passwords a scenario file gives (landlords and residents). Their plain
#: text is in the file, often in ``seed_data/`` of a public checkout, so stretching them protects
#: nothing; at the full cost a 5,000-resident scenario spent 3 minutes hashing (issue 19). They
#: are still scrypt hashes with a salt each, and record their cost, so logins verify them as any
#: other; a password a person sets later (sign-up, invite acceptance) gets the full cost.
SCENARIO_PASSWORD_HASH_COST = 16
_fixture_cost: ContextVar[int | None] = ContextVar("portal_fixture_hash_cost", default=None)


@contextlib.contextmanager
def scenario_passwords() -> Iterator[None]:
    """Within it (this thread or task only), new hashes are made at
    ``SCENARIO_PASSWORD_HASH_COST``, or the configured cost when that is lower."""
    token = _fixture_cost.set(SCENARIO_PASSWORD_HASH_COST)
    try:
        yield
    finally:
        _fixture_cost.reset(token)


def hash_password(password: str) -> str:
    salt = new_salt()
    fixture = _fixture_cost.get()
    n = _hash_cost if fixture is None else min(fixture, _hash_cost)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=_SCRYPT["r"], p=_SCRYPT["p"])
    b64 = base64.b64encode
    return f"scrypt${n}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n_text, salt, digest = stored.split("$")
        n = int(n_text)
        # Only our scheme, at our cost or a lower power of two: a stored hash must never make
        # the server allocate gigabytes.
        if scheme != "scrypt" or not 2 <= n <= MAX_PASSWORD_HASH_COST or n & (n - 1):
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt, validate=True),
            n=n,
            r=_SCRYPT["r"],
            p=_SCRYPT["p"],
        )
    except (ValueError, TypeError, OverflowError, MemoryError):
        return False
    return hmac.compare_digest(expected, actual)


# --- landlord users and sessions --------------------------------------------------------------


def landlord_emails(session: Session, workspace_id: str) -> list[str]:
    """Every landlord user's e-mail (recipients of landlord notifications), in creation order."""
    return list(
        session.scalars(
            select(col(LandlordUser.email))
            .where(col(LandlordUser.workspace_id) == workspace_id)
            .order_by(col(LandlordUser.created_at), col(LandlordUser.id))
        )
    )


def create_landlord(
    session: Session,
    ids: IdMinter,
    *,
    email: str,
    name: str,
    password_hash: str,
    now: datetime,
) -> LandlordUser:
    email = email.strip().lower()
    if session.scalars(select(LandlordUser).where(col(LandlordUser.email) == email)).first():
        raise EmailTaken(f"A landlord user with e-mail {email!r} already exists.")
    user = LandlordUser(
        workspace_id=ids.scope,
        id=ids.new("landlord_user", "usr"),
        email=email,
        name=name,
        password_hash=password_hash,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def login(
    session: Session,
    *,
    email: str,
    password: str,
    system: Clock,
    key: str,
    ttl: timedelta,
) -> tuple[str, datetime]:
    user = session.scalars(
        select(LandlordUser).where(col(LandlordUser.email) == email.strip().lower())
    ).first()
    # Same answer for an unknown e-mail and a wrong password: no account probing.
    if user is None or not verify_password(password, user.password_hash):
        raise InvalidCredentials("The e-mail or password is wrong.")
    ws = workspaces_service.get_workspace(session, user.workspace_id)
    return session_token(session, ws, typ="landlord", sub=user.id, system=system, key=key, ttl=ttl)


def session_token(
    session: Session,
    ws: Workspace,
    *,
    typ: str,
    sub: str,
    system: Clock,
    key: str,
    ttl: timedelta,
) -> tuple[str, datetime]:
    """A short-lived session JWT (landlord or resident) expiring on the workspace clock."""
    now = workspaces_service.now_of(ws, system)
    expires_at = now + ttl
    claims = {
        "iss": ISSUER,
        "typ": typ,
        "ws": ws.id,
        "sub": sub,
        "jti": workspaces_service.minter(ws, session).new("session", "ses"),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM), expires_at


def check_session_expiry(claims: dict[str, Any], now: datetime) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, int) or now.timestamp() >= exp:
        raise TokenExpired("The session has expired on the workspace clock; log in again.")


def decode_token(token: str, key: str, typ: str) -> dict[str, Any]:
    """Verify signature, issuer and type; time claims are the caller's (workspace clock)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            # Time claims are checked against the workspace clock below, not the system time.
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "require_jti": True,
                "require_sub": True,
            },
        )
    except JWTError:
        raise TokenInvalid("The bearer token is not valid.") from None
    if claims.get("typ") != typ or not isinstance(claims.get("ws"), str):
        raise TokenInvalid(f"This route needs a {typ} token; the bearer token is another kind.")
    return claims


@dataclass(frozen=True)
class LandlordSession:
    workspace: Workspace
    user: LandlordUser
    now: datetime


def authenticate_landlord(
    session: Session, token: str, *, key: str, system: Clock
) -> LandlordSession:
    claims = decode_token(token, key, "landlord")
    found = session.execute(
        select(LandlordUser, Workspace)
        .join(Workspace, col(Workspace.id) == col(LandlordUser.workspace_id))
        .where(
            col(LandlordUser.workspace_id) == claims["ws"], col(LandlordUser.id) == claims["sub"]
        )
    ).first()
    if found is None:
        raise TokenInvalid("The bearer token names a user that does not exist.")
    user, ws = found
    now = workspaces_service.now_of(ws, system)
    check_session_expiry(claims, now)
    return LandlordSession(workspace=ws, user=user, now=now)


# --- integrations and tokens ------------------------------------------------------------------


def create_integration(
    session: Session,
    ids: IdMinter,
    *,
    name: str,
    kind: IntegrationKind,
    features: list[str],
    processing_options: dict[str, Any],
    now: datetime,
    flavor: PortalFlavor = PortalFlavor.RENTTRACK,
    lockbox_format: str | None = None,
    connection: ConnectionIn | MriConnectionIn | None = None,
) -> Integration:
    integration = Integration(
        workspace_id=ids.scope,
        id=ids.new("integration", "int"),
        name=name,
        kind=kind,
        flavor=flavor,
        lockbox_format=lockbox_format,
        features=features,
        processing_options=processing_options,
        created_at=now,
    )
    set_connection(integration, connection)
    session.add(integration)
    session.flush()
    return integration


def update_integration(
    session: Session, integration: Integration, changes: dict[str, Any]
) -> Integration:
    """Apply a landlord's settings change (``IntegrationPatch.changes``; the caller locked the
    row). Processing options merge into the current ones, so an option left out keeps its
    value; the stored set is completed with the defaults of options added since."""
    for field, value in changes.items():
        if field == "connection":
            if (reason := connection_refusal(integration.kind, value)) is not None:
                raise Unprocessable(
                    f"{reason[0].upper()}{reason[1:]}.",
                    errors=[FieldError("connection", "not for this kind of integration")],
                )
            set_connection(integration, value)
            continue
        if field == "processing_options":
            value = processing_options(integration).model_copy(update=value).model_dump()
        setattr(integration, field, value)
    session.add(integration)
    session.flush()
    return integration


def set_connection(
    integration: Integration, connection: ConnectionIn | MriConnectionIn | None
) -> None:
    """Store a connection; its password is kept apart and never read back out. A new
    connection without a password (a PATCH) keeps the stored one; None removes both."""
    if connection is None:
        integration.connection, integration.connection_password = None, None
        return
    integration.connection = connection.model_dump(exclude={"password"})
    if connection.password is not None:
        integration.connection_password = connection.password


def processing_options(integration: Integration) -> ProcessingOptions:
    """The integration's processing options, each with its default when never set (an
    integration created before an option existed): the one way code reads an option."""
    return ProcessingOptions.model_validate(integration.processing_options)


def record_last_error(
    engine: Engine, workspace_id: str, integration_id: str, error: dict[str, Any]
) -> None:
    """Keep an integration's last error, in a transaction of its own (the failed call's own
    work was rolled back). Never lets bookkeeping hide the original error."""
    try:
        with Session(engine) as session:
            session.execute(
                update(Integration)
                .where(
                    col(Integration.workspace_id) == workspace_id,
                    col(Integration.id) == integration_id,
                )
                .values(last_error=error)
            )
            session.commit()
    except SQLAlchemyError:  # pragma: no cover - the database is gone; the caller's error stands
        log.exception("could not record the last error of %s", integration_id)


def has_integration_kind(session: Session, workspace_id: str, kind: IntegrationKind) -> bool:
    """Whether the workspace has an integration of this kind (AMSI ID rules, domain.md §2.4)."""
    return (
        session.scalars(
            select(col(Integration.id))
            .where(col(Integration.workspace_id) == workspace_id, col(Integration.kind) == kind)
            .limit(1)
        ).first()
        is not None
    )


def get_integration(
    session: Session, workspace_id: str, integration_id: str, *, for_update: bool = False
) -> Integration:
    """One integration; ``for_update`` locks its row first (``db.get_row``): issuing a token
    deactivates the previous one, and two concurrent issues must not leave two active tokens
    (architecture.md §11; issue 14)."""
    integration = get_row(
        session, Integration, (workspace_id, integration_id), for_update=for_update
    )
    if integration is None:
        raise IntegrationNotFound(f"No integration {integration_id!r}.")
    return integration


def list_integrations(
    session: Session, workspace_id: str, *, after: str | None, limit: int
) -> list[Integration]:
    query = select(Integration).where(col(Integration.workspace_id) == workspace_id)
    query = keyset(query, col(Integration.id), after=after, limit=limit)
    return list(session.scalars(query))


def list_all_integrations(session: Session, workspace_id: str) -> list[Integration]:
    return list(
        session.scalars(
            select(Integration)
            .where(col(Integration.workspace_id) == workspace_id)
            .order_by(col(Integration.id))
        )
    )


def list_tokens(session: Session, integration: Integration) -> list[IntegrationToken]:
    return list(
        session.scalars(
            select(IntegrationToken)
            .where(
                col(IntegrationToken.workspace_id) == integration.workspace_id,
                col(IntegrationToken.integration_id) == integration.id,
            )
            .order_by(col(IntegrationToken.seq))
        )
    )


def active_tokens(
    session: Session, integration_ids: list[str], workspace_id: str
) -> dict[str, IntegrationToken]:
    rows = session.scalars(
        select(IntegrationToken).where(
            col(IntegrationToken.workspace_id) == workspace_id,
            col(IntegrationToken.integration_id).in_(integration_ids),
            col(IntegrationToken.active).is_(True),
        )
    )
    return {row.integration_id: row for row in rows}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def next_token_seq(session: Session, integration: Integration) -> int:
    """The number of the integration's next token: 1, 2, 3... in issue order, never reused.
    Tokens are listed by it (the workspace clock may stand still, so ``created_at`` cannot
    order them). The one home of the rule (issue 15): every path (the landlord's route, a
    scenario's ``issue_token: true``) issues through ``issue_token``, which calls this. The
    caller holds the integration's row (locked by ``get_integration(for_update=True)``, or
    created in the same transaction), so two issues never draw the same number."""
    last = session.scalar(
        select(func.max(IntegrationToken.seq)).where(
            col(IntegrationToken.workspace_id) == integration.workspace_id,
            col(IntegrationToken.integration_id) == integration.id,
        )
    )
    return 1 + (last or 0)


def issue_token(
    session: Session, ids: IdMinter, integration: Integration, *, key: str, now: datetime
) -> tuple[IntegrationToken, str]:
    """Mint a token, deactivate the integration's previous ones, store only the digest."""
    session.execute(
        update(IntegrationToken)
        .where(
            col(IntegrationToken.workspace_id) == integration.workspace_id,
            col(IntegrationToken.integration_id) == integration.id,
            col(IntegrationToken.active).is_(True),
        )
        .values(active=False, revoked_at=now)
    )
    token_id = ids.new("integration_token", "tok")
    seq = next_token_seq(session, integration)
    claims = {
        "iss": ISSUER,
        "typ": "integration",
        "ws": integration.workspace_id,
        "sub": integration.id,
        "jti": token_id,
        "iat": int(now.timestamp()),
        "kind": integration.kind.value,
        # The features as issued, for the client's information only: ``require_feature``
        # reads the integration's row, so a landlord's PATCH applies to this token at once.
        "features": list(integration.features),
        # A nonce keeps two tokens of one instant distinct even with a reused token ID after a
        # workspace reset; it also makes the token as long as clients expect (seed S0).
        "nonce": new_secret(24),
    }
    token = jwt.encode(claims, key, algorithm=ALGORITHM)
    row = IntegrationToken(
        workspace_id=integration.workspace_id,
        id=token_id,
        integration_id=integration.id,
        seq=seq,
        digest=digest(token),
        last4=token[-4:],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, token


def restore_token(
    session: Session, workspace_id: str, integration_id: str, *, digest: str, last4: str
) -> None:
    """Make the integration's active token the one with this digest again: a scenario reset
    replays the load, which mints a new token, but the tester holds the one the first load
    answered (issue 18: same IDs, same token)."""
    session.execute(
        update(IntegrationToken)
        .where(
            col(IntegrationToken.workspace_id) == workspace_id,
            col(IntegrationToken.integration_id) == integration_id,
            col(IntegrationToken.active).is_(True),
        )
        .values(digest=digest, last4=last4)
    )


def revoke_token(
    session: Session, integration: Integration, token_id: str, *, now: datetime
) -> IntegrationToken:
    row = session.get(IntegrationToken, (integration.workspace_id, token_id))
    if row is None or row.integration_id != integration.id:
        raise TokenNotFound(f"No token {token_id!r} for integration {integration.id!r}.")
    if row.active:
        row.active = False
        row.revoked_at = now
        session.add(row)
        session.flush()
    return row


@dataclass(frozen=True)
class IntegrationSession:
    workspace: Workspace
    integration: Integration
    token: IntegrationToken
    now: datetime


@dataclass(frozen=True)
class IntegrationRef:
    """An authenticated accounting client, as plain values (the fast read path)."""

    workspace_id: str
    integration_id: str
    flavor: PortalFlavor
    now: datetime


_INTEGRATION_TOKEN_SQL = """
SELECT t.workspace_id, t.integration_id, t.active, i.flavor,
       w.clock_mode, w.clock_now, w.clock_offset_us
FROM integration_token t
JOIN integration i ON i.workspace_id = t.workspace_id AND i.id = t.integration_id
JOIN workspace w ON w.id = t.workspace_id
WHERE t.digest = :digest
"""


def _check_token(
    claims: dict[str, Any], workspace_id: str, integration_id: str, active: bool, now: datetime
) -> None:
    """The checks every integration call makes of its token's row, whichever way it was read:
    it must be the row the token names, and still the integration's active token."""
    if workspace_id != claims["ws"] or integration_id != claims["sub"]:
        raise TokenInvalid("The integration token is not known here.")
    if not active:
        revoked = TokenRevoked(
            "This integration token was revoked or replaced by a newer one; "
            "generate a new token in the portal."
        )
        revoked.caller = (workspace_id, integration_id, now.isoformat())
        raise revoked


def authenticate_integration_raw(
    raw: RawReader, token: str, *, key: str, system: Clock
) -> IntegrationRef:
    """``authenticate_integration`` for the hot read routes: the same checks and refusals, one
    plain query, no ORM objects."""
    claims = decode_token(token, key, "integration")
    found = raw.rows(_INTEGRATION_TOKEN_SQL, {"digest": digest(token)})
    if not found:
        raise TokenInvalid("The integration token is not known here.")
    ws_id, integration_id, active, flavor, mode, clock_now, offset_us = found[0]
    now = workspace_now(
        mode=ClockMode(mode),
        stored_now=raw.instant(clock_now) or datetime.min.replace(tzinfo=UTC),
        offset=timedelta(microseconds=int(offset_us)),
        system=system,
    )
    _check_token(claims, ws_id, integration_id, bool(active), now)
    return IntegrationRef(ws_id, integration_id, PortalFlavor(flavor), now)


def authenticate_integration(
    session: Session, token: str, *, key: str, system: Clock
) -> IntegrationSession:
    claims = decode_token(token, key, "integration")
    # One joined query: this runs on every accounting-client call.
    found = session.execute(
        select(IntegrationToken, Integration, Workspace)
        .join(
            Integration,
            (col(Integration.workspace_id) == col(IntegrationToken.workspace_id))
            & (col(Integration.id) == col(IntegrationToken.integration_id)),
        )
        .join(Workspace, col(Workspace.id) == col(IntegrationToken.workspace_id))
        .where(col(IntegrationToken.digest) == digest(token))
    ).first()
    if found is None:
        raise TokenInvalid("The integration token is not known here.")
    row, integration, ws = found
    now = workspaces_service.now_of(ws, system)
    _check_token(claims, row.workspace_id, row.integration_id, row.active, now)
    return IntegrationSession(workspace=ws, integration=integration, token=row, now=now)

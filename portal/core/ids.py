"""The only place IDs and secrets are minted (architecture.md §5, style.md B6).

IDs are deterministic for a workspace seed: the n-th ID of a kind in a workspace is a fixed
function of (seed, kind, n), so loading the same scenario into a workspace with the same seed
gives the same IDs. Every workspace-scoped table keys rows by ``(workspace_id, id)``, so two
workspaces with one seed can hold the same IDs without clashing.

Each kind has a counter row; the n-th value goes through an affine permutation keyed by the seed
(``a*n + b mod M`` with ``a`` coprime to ``M``), which is a bijection: IDs never repeat within a
workspace and look unordered, as the real portal's do. Shapes:

- prefixed opaque IDs: ``res_7kq2m9x4c1vd`` (12 base-32 characters, 60 bits);
- deposit batch IDs: 16 digits, no leading zero (``2732388606925747``, as Landlord 12 shows them);
- transaction IDs: 12 digits, no leading zero.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from typing import Any, Literal

from sqlalchemy import BigInteger, bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel

#: The counter scope of IDs that are not inside a workspace (workspace IDs themselves).
GLOBAL_SCOPE = ""
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base 32, lower case

Shape = Literal["prefixed", "digits16", "digits12"]
_SPACE: dict[Shape, tuple[int, int]] = {
    # (modulus, offset): values land in [offset, offset + modulus)
    "prefixed": (2**60, 0),
    "digits16": (9 * 10**15, 10**15),
    "digits12": (9 * 10**11, 10**11),
}


class IdCounter(SQLModel, table=True):
    __tablename__ = "id_counter"

    scope: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=32)
    #: 64-bit: the request journal numbers every request of a workspace (issue 20).
    next_value: int = Field(default=0, sa_type=BigInteger)


def _digest(*parts: object) -> int:
    h = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:16], "big")


@lru_cache(maxsize=4096)
def _affine(seed: int, kind: str, modulus: int) -> tuple[int, int]:
    # Cached: bulk paths mint tens of thousands of IDs of one kind at once.
    a = _digest(seed, kind, "a") % modulus
    while math.gcd(a, modulus) != 1:
        a += 1
    return a, _digest(seed, kind, "b") % modulus


def _permute(seed: int, kind: str, n: int, modulus: int) -> int:
    a, b = _affine(seed, kind, modulus)
    return (a * n + b) % modulus


_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET)


def _encode32(value: int, width: int) -> str:
    """``value`` as ``width`` base-32 digits (Crockford alphabet), most significant first.
    Through ``base64.b32encode`` (C speed): bulk intake mints hundreds of thousands of IDs."""
    bits = width * 5
    nbytes = -(-bits // 8)
    pad = nbytes * 8 - bits
    text = base64.b32encode((value << pad).to_bytes(nbytes, "big")).decode("ascii")
    return text[:width].translate(_TO_CROCKFORD)


def format_id(seed: int, kind: str, prefix: str, n: int, shape: Shape = "prefixed") -> str:
    """The ``n``-th ID (0-based) of ``kind`` under ``seed``; pure, for tests and bulk paths."""
    modulus, offset = _SPACE[shape]
    value = _permute(seed, kind, n, modulus) + offset
    if shape == "prefixed":
        return f"{prefix}_{_encode32(value, 12)}"
    return str(value)


@cache
def _reserve_statement(dialect: str) -> Any:
    """The upsert of ``reserve``, built once per dialect: a Core statement on the table with
    bound parameters executes in ~25 us, where building an ORM insert each call cost ~220 us
    (statement construction and its cache key), an ID being minted for nearly every row."""
    table = IdCounter.__table__  # type: ignore[attr-defined]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    count: Any = bindparam("count")
    return (
        insert(table)
        .values(scope=bindparam("scope"), kind=bindparam("kind"), next_value=count)
        .on_conflict_do_update(
            index_elements=["scope", "kind"], set_={"next_value": table.c.next_value + count}
        )
        .returning(table.c.next_value)
    )


def reserve(session: Session, scope: str, kind: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive counter values; returns the first. Part of the caller's
    transaction, so a rolled-back request gives its numbers back.

    One upsert: the first value of a kind creates its counter, any later one moves it, and the
    row stays locked until the caller commits (PostgreSQL's ON CONFLICT DO UPDATE locks the row
    as UPDATE does), so ``count=0`` serves as a named lock. Inside ``buffered(session)`` the
    values come from blocks reserved ahead (see there)."""
    blocks: dict[tuple[str, str], list[int]] | None = session.info.get(_BUFFER)
    if blocks is None or count == 0:
        return _reserve_now(session, scope, kind, count)
    block = blocks.get((scope, kind))
    if block is None:
        size = max(count, BLOCK)
        first = _reserve_now(session, scope, kind, size)
        block = blocks[(scope, kind)] = [first, first + size]
    elif block[0] + count > block[1]:
        more = max(count - (block[1] - block[0]), BLOCK)
        start = _reserve_now(session, scope, kind, more)
        if start != block[1]:  # the counter row is this transaction's until it commits
            raise RuntimeError(f"counter {scope}/{kind} moved under a buffered reservation")
        block[1] += more
    first = block[0]
    block[0] += count
    return first


_BUFFER = "portal_id_buffer"
#: Values reserved ahead per counter inside ``buffered``.
BLOCK = 512


@contextmanager
def buffered(session: Session) -> Iterator[None]:
    """Reserve counter values in blocks for the duration, and give back what is left at the
    end: the values handed out, so the IDs minted, are exactly those of one reservation per
    call (a scenario loaded either way gets the same IDs), with one upsert per 512 values
    instead of one per ID (a tenth of a 5,000-resident scenario load; issue 19). Safe because a
    reservation keeps the counter row to this transaction until it commits (SQLite: the write
    lock; PostgreSQL: the row lock), so no one else moves it meanwhile. Nested use joins the
    outer buffer. An exception leaves the give-back to the rollback."""
    if _BUFFER in session.info:
        yield
        return
    blocks: dict[tuple[str, str], list[int]] = {}
    session.info[_BUFFER] = blocks
    try:
        yield
        table = IdCounter.__table__  # type: ignore[attr-defined]
        unused = [
            {"s": scope, "k": kind, "n": next_free}
            for (scope, kind), (next_free, end) in blocks.items()
            if next_free < end
        ]
        if unused:
            session.connection().execute(
                update(table)
                .where(table.c.scope == bindparam("s"), table.c.kind == bindparam("k"))
                .values(next_value=bindparam("n")),
                unused,
            )
    finally:
        session.info.pop(_BUFFER, None)


def _reserve_now(session: Session, scope: str, kind: str, count: int) -> int:
    connection = session.connection()
    statement = _reserve_statement(connection.dialect.name)
    params = {"scope": scope, "kind": kind, "count": count}
    new_next = connection.execute(statement, params).scalar_one()
    return int(new_next) - count


class IdMinter:
    """Mints the IDs of one workspace (or of the global scope) inside a session."""

    def __init__(self, session: Session, scope: str, seed: int) -> None:
        self.session = session
        self.scope = scope
        self.seed = seed

    def new(self, kind: str, prefix: str | None = None, shape: Shape = "prefixed") -> str:
        return self.many(kind, 1, prefix, shape)[0]

    def many(
        self, kind: str, count: int, prefix: str | None = None, shape: Shape = "prefixed"
    ) -> list[str]:
        first = reserve(self.session, self.scope, kind, count)
        return format_ids(self.seed, kind, prefix or kind, range(first, first + count), shape)


def format_ids(
    seed: int, kind: str, prefix: str, ns: range, shape: Shape = "prefixed"
) -> list[str]:
    """``[format_id(seed, kind, prefix, n, shape) for n in ns]``, the same strings, made in bulk:
    every 60-bit value is laid in 10 bytes (shifted left 20 bits) and the whole run goes through
    one ``b32encode``, 16 characters a value of which the first 12 are the ID (a fifth of a
    50,000-resident intake's Python time went to one encode call per ID; issue 19)."""
    modulus, offset = _SPACE[shape]
    a, b = _affine(seed, kind, modulus)
    values = [(a * n + b) % modulus + offset for n in ns]
    if shape != "prefixed":
        return [str(v) for v in values]
    packed = b"".join([(v << 20).to_bytes(10, "big") for v in values])
    text = base64.b32encode(packed).decode("ascii").translate(_TO_CROCKFORD)
    head = f"{prefix}_"
    return [head + text[i : i + 12] for i in range(0, len(text), 16)]


def seed_from_text(text: str) -> int:
    """A stable 62-bit seed derived from text (a workspace ID when no seed is given)."""
    return _digest("seed", text) % (2**62)


def new_secret(nbytes: int = 32) -> str:
    """A random secret (operator key, signing key, generated passwords). Never an ID."""
    return secrets.token_urlsafe(nbytes)


def seeded(text: str) -> random.Random:
    """A deterministic generator for choices a seed fixes (the webhooks' chaos switches): the
    same text draws the same numbers on every machine and run (``random`` hashes a ``str`` seed
    with SHA-512)."""
    return random.Random(text)


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 24 random bytes in standard base64,
    the form every Standard Webhooks library takes (issue 20)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def new_secrets(count: int, nbytes: int = 12) -> list[str]:
    """``count`` secrets like ``new_secret(nbytes)``, from one read of the system's randomness
    (bulk intake hands out tens of thousands of invite codes)."""
    raw = secrets.token_bytes(count * nbytes)
    return [
        base64.urlsafe_b64encode(raw[i : i + nbytes]).rstrip(b"=").decode("ascii")
        for i in range(0, count * nbytes, nbytes)
    ]


def new_salt() -> bytes:
    return secrets.token_bytes(16)

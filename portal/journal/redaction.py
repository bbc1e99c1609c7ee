"""What of a request may be stored: bodies and query strings with their secrets redacted, cut to
a bounded size. Runs off the request path, when the buffered entries are written, and remembers
the bodies it has seen (the read cache sends the same bytes object again and again, so a
repeated body costs one dictionary lookup).

Rules (docs/decisions.md, "Request journal"):

- a JSON member whose name says secret (``password``, ``token``, ``secret``, ``credential``,
  ``authorization``, ``api_key``, ``*_key``, ``invite_code``, ...) has its value replaced, at any
  depth, whatever the value (``tokens: {...}`` goes whole) but a flag or a null
  (``password_set: true``); a bare ``key`` is not a secret in a body (a scenario's entities are
  named by ``key``);
- any string that looks like a JWT, and the server's own operator and signing keys, are
  replaced wherever they appear (a body, a query string, text that is not JSON);
- a query parameter or form field with a secret name, or named ``key``, is replaced;
- a body beyond the size setting is cut and marked truncated; a cut JSON body cannot be parsed,
  so its ``"secret name": value`` pairs are replaced as text;
- the invite code in ``/v1/resident/invites/{code}/accept`` is replaced in the path.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "[REDACTED]"

_SECRET_PARTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "authorization",
    "apikey",
    "api_key",
    "signature",
    "cookie",
    "invite_code",
)
_SECRET_NAMES = frozenset({"pass", "pwd", "pin", "cvv", "cvc", "jwt"})
#: Names that contain a secret word but hold none: an ID, an instant, a count, a kind
#: (``token_type``), four digits.
_NOT_SECRET_SUFFIXES = ("_id", "_ids", "_at", "_count", "_type", "last4")

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
#: ``"name": "value"`` or ``"name": 123`` in JSON text that could not be parsed (cut short):
#: the value, up to its closing quote or the end of the text.
_JSON_PAIR = re.compile(
    r'"([A-Za-z0-9_\-]{1,64})"\s*:\s*("(?:[^"\\]|\\.)*(?:"|$)|-?[0-9][0-9.eE+-]*)'
)
_INVITE_PATH = re.compile(r"^(/v1/resident/invites/)[^/]+(/accept)$")


def is_secret_name(name: str, *, bare_key: bool = False) -> bool:
    """Whether a JSON member, query parameter or form field named ``name`` holds a secret;
    ``bare_key``: count a name of just ``key`` (query strings and forms, not bodies)."""
    lowered = name.lower().replace("-", "_")
    if lowered.endswith(_NOT_SECRET_SUFFIXES):
        return False
    if lowered in _SECRET_NAMES or (bare_key and lowered == "key"):
        return True
    if lowered.endswith("_key") or lowered.startswith("key_"):
        return True
    return any(part in lowered for part in _SECRET_PARTS)


@dataclass(frozen=True, slots=True)
class Body:
    """A body as stored: ``text`` (redacted, cut), ``digest`` of it, and what the writer reads
    off the original: the problem ``code`` of an error, the claims of an ``access_token`` the
    portal issued (to attribute a login to its workspace)."""

    text: str
    truncated: bool
    digest: str
    code: str | None = None
    claims: dict[str, Any] | None = None


class Redactor:
    """Redacts bodies, query strings and paths; one per process (its memo is per process)."""

    #: Bodies remembered (at most ``limit`` bytes each: the capture cut them).
    MEMO = 512

    def __init__(self, *, limit: int, known_secrets: tuple[str, ...] = ()) -> None:
        self.limit = limit
        # Longest first, so a secret containing another is replaced whole.
        self.known = tuple(sorted((s for s in known_secrets if len(s) >= 8), key=len, reverse=True))
        self._bodies: dict[tuple[bytes, bool, str], Body] = {}
        self._queries: dict[bytes, str] = {}

    # --- bodies ------------------------------------------------------------------------------

    def body(self, raw: bytes, *, truncated: bool, media: str) -> Body:
        """``raw``: the first ``limit`` bytes of a body; ``truncated``: it was longer."""
        key = (raw, truncated, media)
        found = self._bodies.get(key)
        if found is None:
            if len(self._bodies) >= self.MEMO:
                self._bodies.clear()
            found = self._bodies[key] = self._body(raw, truncated, media)
        return found

    def _body(self, raw: bytes, truncated: bool, media: str) -> Body:
        parsed: Any = None
        if not truncated and "json" in media:
            try:
                parsed = json.loads(raw)
            except (ValueError, RecursionError):
                parsed = None
        code = claims = None
        if parsed is not None:
            if isinstance(parsed, dict):
                code = parsed.get("code") if isinstance(parsed.get("code"), str) else None
                claims = claims_of(parsed.get("access_token"))
            text = json.dumps(self._redact_json(parsed), ensure_ascii=False, separators=(",", ":"))
        else:
            text = raw[: self.limit].decode("utf-8", errors="replace")
            if "x-www-form-urlencoded" in media:
                text = self._redact_pairs(text)
            else:
                text = _JSON_PAIR.sub(_pair_redacted, text)
            text = self._redact_text(text)
        text = storable(text)
        digest = hashlib.blake2b(
            text.encode() + (b"\x01" if truncated else b"\x00"), digest_size=16
        ).hexdigest()
        return Body(text, truncated, digest, code[:64] if code else None, claims)

    def _redact_json(self, value: Any) -> Any:
        if isinstance(value, dict):
            # A flag or a null holds no secret (``password_set: true`` says something).
            return {
                k: REDACTED
                if is_secret_name(str(k)) and not (v is None or isinstance(v, bool))
                else self._redact_json(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._redact_json(v) for v in value]
        if isinstance(value, str):
            return self._redact_text(value)
        return value

    def _redact_text(self, text: str) -> str:
        if "eyJ" in text:
            text = _JWT.sub(REDACTED, text)
        for secret in self.known:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def _redact_pairs(self, text: str) -> str:
        pairs = parse_qsl(text, keep_blank_values=True)
        if not any(is_secret_name(name, bare_key=True) for name, _ in pairs):
            return text
        return urlencode(
            [(n, REDACTED if is_secret_name(n, bare_key=True) else v) for n, v in pairs]
        )

    # --- the request line --------------------------------------------------------------------

    def query(self, raw: bytes) -> str:
        if not raw:
            return ""
        found = self._queries.get(raw)
        if found is None:
            if len(self._queries) >= self.MEMO:
                self._queries.clear()
            text = raw.decode("latin-1")
            found = self._queries[raw] = storable(self._redact_text(self._redact_pairs(text)))
        return found

    def path(self, path: str) -> str:
        if path.startswith("/v1/resident/invites/"):
            path = _INVITE_PATH.sub(rf"\g<1>{REDACTED}\g<2>", path)
        return storable(self._redact_text(path))


def storable(text: str) -> str:
    """``text`` as both databases take it: a lone surrogate (a JSON body's ``"\\ud800"``, which
    the input guard refuses) and NUL (PostgreSQL's text refuses it) become U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode()
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def _pair_redacted(match: re.Match[str]) -> str:
    name = match.group(1)
    if not is_secret_name(name):
        return match.group(0)
    return f'"{name}":"{REDACTED}"'


def claims_of(token: Any) -> dict[str, Any] | None:
    """The claims of a JWT, unverified (a session the portal just issued is its own)."""
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None

"""Service settings, read from ``PORTAL_*`` environment variables (style.md B9).

Defaults run locally with nothing set: a SQLite file next to the working directory and the
simulated clock. Secrets left unset (operator key, signing key) are generated once by
``portal serve`` and stored in the database, so every worker and every restart agrees on them.
A secret that is set is never written to the database (and one stored earlier is deleted):
shared deployments set ``PORTAL_SECRET_KEY`` so a copy of the database holds no signing key.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./portal.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    #: Bearer key for ``/v1/sandbox/**``. Unset: generated, stored and printed by ``portal serve``;
    #: set: never stored.
    operator_key: str | None = None
    #: HS256 key for landlord, resident and integration JWTs. Unset: generated once and stored
    #: in the database; set: never stored (every worker, host and ``portal seed`` needs it).
    secret_key: str | None = None
    #: Public base URL, used in links the portal hands out (browse URLs, e-mails).
    base_url: str = "http://127.0.0.1:8000"
    #: Landlord session lifetime, measured on the workspace clock.
    landlord_token_minutes: int = Field(default=60, ge=1)
    #: Default request body limit; import routes declare their own (architecture.md §5).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_import_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    #: Idempotency keys are remembered this long in workspace time (architecture.md §5).
    idempotency_hours: int = Field(default=24, ge=1)
    #: How often ``portal serve`` moves workspaces whose clock is in ``real`` mode (seconds).
    real_clock_tick_seconds: float = Field(default=1.0, gt=0)
    #: Run that loop at all (tests drive it by hand).
    run_real_clocks: bool = True
    #: Log each request (uvicorn access log costs ~40 % of throughput: perf-baseline.md §10).
    access_log: bool = False
    #: scrypt cost ``n`` of new password hashes (a power of two, 2 to 2**14; each hash records
    #: its own, so lowering it never locks anyone out). Keep the default: the test suite lowers
    #: it, since at 2**14 a landlord or resident password costs ~70 ms to hash or check.
    password_hash_cost: int = Field(default=2**14, ge=2, le=2**14)
    #: Answer the accounting client's polling reads from memory while the database is unchanged
    #: (``portal.core.read_cache``, issue 19). Off: every read runs its queries.
    read_cache: bool = True
    #: Journal every ``/v1/...`` request (``portal.journal``, issue 20). Off: nothing is
    #: recorded and the journal routes answer 409 ``journal_disabled``.
    journal: bool = True
    #: Entries kept per workspace (the oldest go first), and their age limit in real time.
    journal_max_entries: int = Field(default=10_000, ge=1)
    journal_max_age_hours: float = Field(default=24.0, gt=0)
    #: How often the buffered entries are written (seconds); a journal read writes them first.
    journal_flush_seconds: float = Field(default=0.2, gt=0)
    #: Entries buffered in memory at most (per process); beyond, the oldest are dropped and
    #: counted, so memory stays flat when the database falls behind.
    journal_buffer_entries: int = Field(default=10_000, ge=100)
    #: Request and response bodies are stored up to this many bytes (the rest is cut, noted).
    journal_body_bytes: int = Field(default=16 * 1024, ge=256)

    #: Hosts webhook endpoints may point at besides loopback (``127.0.0.0/8``, ``::1``,
    #: ``localhost``), comma-separated: the portal never calls a host the operator did not
    #: allow, so it cannot be turned against an internal network (issue 20).
    webhook_allowed_hosts: str = ""
    #: Seconds a webhook receiver has to answer before the attempt counts as failed.
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("password_hash_cost")
    @classmethod
    def _power_of_two(cls, n: int) -> int:
        if n & (n - 1):
            raise ValueError("must be a power of two")
        return n

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

"""The API server's settings, beside the catalog's own (catalog.settings), read from HEADATLAS_* as well."""

from pydantic import SecretStr, field_validator
from sqlalchemy.engine import make_url

from catalog.settings import Settings

# Requests that may work on the catalog at once per worker process, unless HEADATLAS_API_SLOTS says: on SQLite
# a read is Python and SQLite work under one GIL, and more threads only contend for it (bench/api.py measured
# 540, 523 and 410 requests per second with 1, 2 and 4); on PostgreSQL a read also waits for the server, which
# other threads can use.
DEFAULT_SLOTS = {"sqlite": 2, "postgresql": 8}


class ApiSettings(Settings):
    # The bearer token for writes; unset or empty, the API accepts no writes.
    api_token: SecretStr | None = None
    # Origins a browser may call the API from (CORS), as a JSON list: '["https://example.org"]'.
    cors_origins: list[str] = []
    # Bundled models (as `headatlas models` names them) that the API may queue for verification.
    verify_allowlist: list[str] = ["smollm2", "gemma3"]
    # Catalog calls at once per worker (by default DEFAULT_SLOTS of the backend); the pool holds one connection
    # per slot and one for /health, and no overflow.
    api_slots: int | None = None
    # Seconds a request waits for a free slot before it is answered 503 with Retry-After.
    api_wait_seconds: float = 1.0
    # Largest request body accepted, in bytes (413 beyond); writes are small JSON documents.
    api_max_body_bytes: int = 1_000_000

    @field_validator("api_token")
    @classmethod
    def _empty_token_disables_writes(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_validator("api_slots", "api_max_body_bytes")
    @classmethod
    def _at_least_one(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("must be at least 1")
        return value

    @property
    def slots(self) -> int:
        """The catalog calls at once this server allows: api_slots, or the backend's default."""
        backend = make_url(self.database_url).get_backend_name()
        return self.api_slots or DEFAULT_SLOTS.get(backend, DEFAULT_SLOTS["postgresql"])

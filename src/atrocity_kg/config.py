"""Typed settings, read from the environment (prefix ATROCITY_KG_) or given by the caller."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

UnionMode = Literal["protocol", "native"]
"""How a remote store is asked for the union of its named graphs (``remote_union``)."""


def _default_home() -> Path:
    """The checkout this package runs from (src layout), else the working directory."""
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / "ontology").is_dir() else Path.cwd()


MIN_ADMIN_TOKEN_LENGTH = 32


class Settings(BaseSettings):
    # Errors name the setting and the rule, never the value given: that may be the admin token.
    model_config = SettingsConfigDict(
        env_prefix="ATROCITY_KG_", frozen=True, hide_input_in_errors=True
    )

    home: Path = Field(default_factory=_default_home, description="the project checkout")
    store_dir: Path | None = Field(default=None, description="where the embedded store lives")
    cache_dir: Path | None = Field(
        default=None,
        description="where builds keep what a later build of the same input reuses (validation "
        "reports, HermiT's answers), by content digest; default: beside the store",
    )
    sparql_endpoint: str | None = Field(
        default=None,
        description="a remote SPARQL 1.1 query endpoint to read instead of the embedded store "
        "(the server's API and pages, and the CLI's queries)",
    )
    remote_union: UnionMode = Field(
        default="protocol",
        description="how a remote store is asked for the union of its named graphs: 'protocol' "
        "names them all in the request; 'native' when its default graph already is the union",
    )
    remote_timeout: float = Field(default=30.0, description="seconds to wait for a remote store")
    host: str = "127.0.0.1"
    port: int = 8000
    access_log: bool = Field(default=True, description="log every request (uvicorn's access log)")

    # Limits (issue 7): each has a safe default for a public endpoint.
    query_timeout: float = Field(
        default=30.0,
        gt=0,
        description="seconds a query may run (evaluation and writing the answer); past it the "
        "worker process running it is killed and the client gets 503",
    )
    max_result_rows: int = Field(
        default=100_000,
        gt=0,
        description="most solutions (SELECT) or triples (CONSTRUCT, DESCRIBE) in one answer; a "
        "longer result is cut there and the answer says so in its Atrocity-KG-Truncated header",
    )
    max_query_bytes: int = Field(
        default=64 * 1024, gt=0, description="longest query text accepted, in UTF-8 bytes"
    )
    query_workers: int = Field(
        default=2,
        gt=0,
        description="worker processes running queries: the most queries evaluated at once",
    )
    store_in_memory: Literal["auto"] | bool = Field(
        default="auto",
        description="copy the current build into memory in the server and in every query worker "
        "(the catalogue 2 to 5 times faster; memory is then the graph times 1 + query_workers, "
        "and a start or a switch of builds waits for the copies). false: each reads the build on "
        "disk, shared through the page cache; auto: copy a build whose store takes at most "
        "store_in_memory_up_to_mb on disk, read a larger one on disk",
    )
    store_in_memory_up_to_mb: int = Field(
        default=64,
        ge=0,
        description="with store_in_memory auto, the largest store on disk (its own files, in "
        "MB) that is copied into memory",
    )
    cache_max_age: int = Field(
        default=0,
        ge=0,
        description="seconds a cache may keep an answer of the build without asking again "
        "(Cache-Control max-age). 0: it asks each time (no-cache), which its ETag makes a 304 "
        "until a write changes the build",
    )
    max_queued_queries: int = Field(
        default=128,
        ge=0,
        description="queries that may wait for a free worker; past that the answer is 503 with "
        "Retry-After",
    )
    max_queue_wait: float = Field(
        default=30.0,
        gt=0,
        description="seconds a query may wait for a free worker before the answer is 503",
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=0,
        description="requests per minute from one client address (0: no limit); past it, 429 "
        "with Retry-After",
    )
    rate_limit_burst: int = Field(
        default=60, gt=0, description="requests one client may send at once before the rate applies"
    )
    federation: bool = Field(
        default=False,
        description="allow SPARQL SERVICE calls, to the endpoints in federation_allow only",
    )
    federation_allow: tuple[str, ...] = Field(
        default=(),
        description="SPARQL endpoints SERVICE may call when federation is on (exact IRIs); "
        "loopback, private and link-local addresses are refused whatever this says",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="switches the admin write endpoints (/admin/...) on; every write must carry "
        "it as a Bearer token. Off (None) by default; at least 32 characters",
    )
    contributions_dir: Path | None = Field(
        default=None,
        description="where contributions to the living review are kept, one folder each "
        "(default: data/contributions of the checkout)",
    )
    curator: str = Field(
        default="curator",
        description="the name a contribution made from the command line is attributed to "
        "unless --curator says otherwise",
    )
    admin_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="named admin tokens, as JSON {name: token}: each switches the admin writes "
        "on like admin_token, and a contribution made with one is attributed to its name",
    )
    max_upload_bytes: int = Field(
        default=32 * 1024 * 1024, gt=0, description="largest RDF or update body an admin may send"
    )

    @field_validator("admin_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        """A short token can be guessed; refuse it rather than guard writes with it."""
        if token is not None and len(token.get_secret_value()) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"the admin token must be at least {MIN_ADMIN_TOKEN_LENGTH} characters long "
                "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return token

    @field_validator("admin_tokens")
    @classmethod
    def _named_long_enough(cls, tokens: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, token in tokens.items():
            if not name.strip():
                raise ValueError("an admin token needs a name")
            cls._long_enough(token)
        return tokens

    @property
    def admin_writes(self) -> bool:
        """Whether any admin token is set (the admin routes exist only then)."""
        return self.admin_token is not None or bool(self.admin_tokens)

    @property
    def ontology_dir(self) -> Path:
        return self.home / "ontology"

    @property
    def ontology_file(self) -> Path:
        return self.ontology_dir / "atrocity.ttl"

    @property
    def shapes_file(self) -> Path:
        return self.ontology_dir / "shapes.ttl"

    @property
    def curated_dir(self) -> Path:
        return self.home / "data" / "curated"

    @property
    def ushmm_dir(self) -> Path:
        return self.home / "data" / "ushmm"

    @property
    def contributions_root(self) -> Path:
        """The contributions, one folder each (``curation.contributions``)."""
        if self.contributions_dir is not None:
            return self.contributions_dir
        return self.home / "data" / "contributions"

    @property
    def queries_dir(self) -> Path:
        return self.home / "queries"

    @property
    def store_root(self) -> Path:
        return self.store_dir if self.store_dir is not None else self.home / "var" / "store"

    @property
    def cache_root(self) -> Path:
        """The caches' folder: ``cache_dir``, else the store's parent. Entries are keyed by the
        digest of their input and written atomically, so stores and processes may share one."""
        return self.cache_dir if self.cache_dir is not None else self.store_root.parent

    @property
    def validation_cache(self) -> Path:
        """Reports of graphs already validated (see validate.ValidationCache)."""
        return self.cache_root / "validation-cache"

    @property
    def reasoning_cache(self) -> Path:
        """HermiT's answers by a digest of its input (reasoning.hermit_stage)."""
        return self.cache_root / "reasoning-cache"

"""Typed settings, read from the environment (prefix ATROCITY_KG_) or given by the caller."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from atrocity_kg.remote import UnionMode


def _default_home() -> Path:
    """The checkout this package runs from (src layout), else the working directory."""
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / "ontology").is_dir() else Path.cwd()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATROCITY_KG_", frozen=True)

    home: Path = Field(default_factory=_default_home, description="the project checkout")
    store_dir: Path | None = Field(default=None, description="where the embedded store lives")
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
    def queries_dir(self) -> Path:
        return self.home / "queries"

    @property
    def store_root(self) -> Path:
        return self.store_dir if self.store_dir is not None else self.home / "var" / "store"

    @property
    def validation_cache(self) -> Path:
        """Reports of graphs already validated, beside the store (see validate.ValidationCache)."""
        return self.store_root.parent / "validation-cache"

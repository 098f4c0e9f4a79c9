"""The USHMM releases the project knows: code, number, folder and date of each, and where its
files lie in a folder laid out like the upstream repository. The one list every other module
(importer, exporter, writes, command line) derives from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class ReleaseSpec:
    code: str
    number: int
    folder: str
    issued: str
    title: str

    @property
    def sources_file(self) -> str:
        return f"data/{self.folder}/all_sources_{self.number}.csv"

    @property
    def factors_file(self) -> str:
        return f"data/{self.folder}/all_factors_{self.number}.csv"

    @property
    def guide_file(self) -> str:
        return f"auxiliary/{self.folder}/analytic_guide_{self.number}.csv"

    @property
    def bibliography_file(self) -> str | None:
        """The bibliography this release ships (V3 on); every release uses the newest one."""
        return f"auxiliary/{self.folder}/zotero_{self.number}.csv" if self.number >= 3 else None


RELEASES: dict[str, ReleaseSpec] = {
    spec.code: spec
    for spec in (
        ReleaseSpec(
            "V1", 1, "V1 - 2022", "2022-07", "Tools for Atrocity Prevention data, V1 (2022)"
        ),
        ReleaseSpec(
            "V2", 2, "V2 - 2024", "2024-04", "Tools for Atrocity Prevention data, V2 (2024)"
        ),
        ReleaseSpec(
            "V3", 3, "V3 - 2025_April", "2025-04", "Tools for Atrocity Prevention data, V3 (2025)"
        ),
    )
}

DRAFT_SUFFIX = "-draft"


def latest_release(codes: Iterable[str] | None = None) -> ReleaseSpec:
    """The newest release the project knows (by number), or the newest of ``codes``."""
    chosen = [RELEASES[code] for code in codes] if codes is not None else list(RELEASES.values())
    if not chosen:
        raise ValueError("no release to choose the latest from")
    return max(chosen, key=lambda spec: spec.number)


def draft_code(latest: ReleaseSpec | None = None) -> str:
    """The code of the draft release that gathers the contributions made since ``latest`` (the
    newest known release by default): the next release's code with ``-draft``, e.g. V4-draft."""
    spec = latest if latest is not None else latest_release()
    return f"V{spec.number + 1}{DRAFT_SUFFIX}"


def is_draft_code(code: str) -> bool:
    return code.endswith(DRAFT_SUFFIX)


ALL = "all"
# The codes as choices of the command line and the API, made from RELEASES so that a new release
# needs no other edit (mypy cannot list members made at run time, hence the ignores).
ReleaseCode = StrEnum("ReleaseCode", [(code, code) for code in RELEASES])  # type: ignore[misc]
ReleaseChoice = StrEnum(  # type: ignore[misc]
    "ReleaseChoice", [*((code, code) for code in RELEASES), (ALL, ALL)]
)

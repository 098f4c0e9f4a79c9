"""The docs say what the code does: docs/operations.md names every setting with its default.

The settings are defined once, in config.py; the table is written for people. This test reads
both and fails when one changes without the other."""

from __future__ import annotations

import re
from pathlib import Path

from atrocity_kg.config import Settings

OPERATIONS = Path(__file__).resolve().parents[1] / "docs" / "operations.md"
ROW = re.compile(r"^\| `(ATROCITY_KG_[A-Z_]+)` \| ([^|]+) \|", re.MULTILINE)
# Defaults that depend on where the package runs: the table says so in words.
IN_WORDS = {"home", "store_dir"}


def _table() -> dict[str, str]:
    return {name: cell.strip() for name, cell in ROW.findall(OPERATIONS.read_text("utf-8"))}


def _as_written(value: object) -> str:
    """A default as the table writes it: what one would set in the environment."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, tuple):
        return f"`{list(value)!r}`".replace("'", '"')
    return f"`{value}`"


def test_every_setting_is_in_the_operations_table_with_its_default() -> None:
    table = _table()
    fields = Settings.model_fields
    expected = {"ATROCITY_KG_" + name.upper(): name for name in fields}
    assert sorted(table) == sorted(expected), "docs/operations.md: settings table"
    for variable, name in expected.items():
        if name in IN_WORDS:
            continue
        default = fields[name].get_default(call_default_factory=True)
        assert table[variable] == _as_written(default), variable

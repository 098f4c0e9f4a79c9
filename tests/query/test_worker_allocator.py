"""The query workers' allocator settings (query.allocator.ALLOCATOR_TUNABLES): added to what the
operator gave in GLIBC_TUNABLES, never in its place; names glibc knows, with values it takes;
and in the environment of the worker processes a pool starts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from atrocity_kg.config import Settings
from atrocity_kg.query.allocator import ALLOCATOR_TUNABLES, worker_environment
from server import HANG_GUARD_S, query_pool

OURS = ":".join(f"{name}={value}" for name, value in ALLOCATOR_TUNABLES.items())


def test_a_plain_environment_gets_the_workers_settings() -> None:
    environment = worker_environment({"HOME": "/home/someone"})
    assert environment == {"HOME": "/home/someone", "GLIBC_TUNABLES": OURS}


def test_the_operators_own_settings_come_first_and_are_kept() -> None:
    given = "glibc.malloc.arena_max=2"
    assert worker_environment({"GLIBC_TUNABLES": given})["GLIBC_TUNABLES"] == f"{given}:{OURS}"


def test_a_setting_the_operator_chose_is_not_changed() -> None:
    mine = ":".join(f"{name}=3" for name in ALLOCATOR_TUNABLES)
    assert worker_environment({"GLIBC_TUNABLES": mine}) == {"GLIBC_TUNABLES": mine}


LOADER = Path("/lib64/ld-linux-x86-64.so.2")


def tunables_under(setting: str) -> dict[str, str]:
    """What glibc's loader says each tunable is set to under GLIBC_TUNABLES=``setting``."""
    listed = subprocess.run(
        [str(LOADER), "--list-tunables"],
        env={"GLIBC_TUNABLES": setting},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {}
    for line in listed.splitlines():
        name, _, rest = line.partition(":")
        found[name.strip()] = rest.split("(")[0].strip()
    return found


@pytest.mark.skipif(
    not LOADER.exists()
    or subprocess.run([str(LOADER), "--list-tunables"], capture_output=True).returncode != 0,
    reason="needs glibc's x86-64 loader with --list-tunables (glibc 2.33 and later)",
)
def test_glibc_knows_each_setting_and_takes_its_value() -> None:
    # glibc ignores a name it does not know and a value out of its range, without a word.
    found = tunables_under(OURS)
    for name, value in ALLOCATOR_TUNABLES.items():
        assert name in found, f"glibc has no tunable {name}"
        assert int(found[name], 16) == int(value), f"{name}: glibc has {found[name]}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_workers_a_pool_starts_run_with_the_settings(built: Settings) -> None:
    async def scenario() -> list[str]:
        async with query_pool(built, size=2, timeout=60.0) as pool:
            return [Path(f"/proc/{pid}/environ").read_bytes().decode() for pid in pool.processes]

    environments = asyncio.run(asyncio.wait_for(scenario(), HANG_GUARD_S))
    assert len(environments) == 2
    for environment in environments:
        assert f"GLIBC_TUNABLES={OURS}" in environment.split("\0")

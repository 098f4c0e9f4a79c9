"""The curator's page in Chromium, on a real server over a copy of the session's store: bad
records show the file, row and column and write nothing; good ones show the ratings they move,
are kept, listed, and withdrawn again; the page breaks no content security policy."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from pydantic import SecretStr

from atrocity_kg.config import Settings
from atrocity_kg.storage import store
from browser import RECORD_VIOLATIONS, chromium, new_page
from conftest import REPO, writable_copy
from contribution_csv import write_contribution
from server import serving

TOKEN = secrets.token_urlsafe(32)
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
  .map((v) => ({ id: v.id, impact: v.impact, help: v.help }))"""


@pytest.mark.slow  # a real server, a browser and two writes
def test_preview_keep_and_withdraw_in_the_browser(
    built: Settings, shared_release: Path, tmp_path: Path
) -> None:
    settings = writable_copy(
        built,
        tmp_path,
        contributions_dir=tmp_path / "contributions",
        admin_token=SecretStr(TOKEN),
    )
    good = write_contribution(shared_release, tmp_path / "new-study.csv")
    bad = write_contribution(shared_release, tmp_path / "bad.csv", Outcome="Genocide (sic)")
    current = store.current_path(settings.store_root)
    with serving(settings) as site, chromium() as browser:
        page = new_page(browser)
        page.add_init_script(RECORD_VIOLATIONS)
        page.goto(f"{site}/curate")
        if AXE.is_file():
            checker = new_page(browser, bypass_csp=True)
            checker.goto(f"{site}/curate")
            checker.add_script_tag(path=str(AXE))
            found = checker.evaluate(RUN_AXE)
            checker.close()
            assert [v for v in found if v["impact"] in ("serious", "critical")] == []
        page.fill("#token", TOKEN)
        page.fill("#curator", "Browser Curator")
        page.set_input_files("#records", str(bad))
        page.click("#preview")
        page.wait_for_selector("#problems li")
        assert "bad.csv, row 1, column 'Outcome'" in page.inner_text("#problems")
        assert page.is_disabled("#keep")
        assert store.current_path(settings.store_root) == current

        page.set_input_files("#records", str(good))
        page.click("#preview")
        page.wait_for_function("() => !document.getElementById('keep').disabled")
        shown = page.inner_text("#impact-lines")
        assert "→" in shown
        assert "studies added: 1" in shown
        assert store.current_path(settings.store_root) == current

        page.click("#keep")
        page.wait_for_selector("#contributions tbody tr[data-id]")
        identifier = page.get_attribute("#contributions tbody tr[data-id]", "data-id")
        assert identifier is not None
        assert "Kept as contribution" in page.inner_text("#status")
        assert (settings.contributions_root / identifier / "records.csv").is_file()

        page.reload()
        page.fill("#token", TOKEN)
        page.click(f"button.withdraw[data-id='{identifier}']")
        page.wait_for_selector("#contributions tbody tr[data-id]", state="detached")
        assert "Withdrew" in page.inner_text("#status")
        assert not (settings.contributions_root / identifier).exists()
        assert page.evaluate("window.__violations") == []

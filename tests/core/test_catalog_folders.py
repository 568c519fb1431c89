"""The team's own catalog: overlay folders, validated together, reloaded when any of them changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import time
from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.core.catalog import default_catalog_dir, load_catalog
from bot.core.catalog_cache import stamp
from bot.core.catalog_folders import check_folders, load_folders, parse_folders
from bot.core.catalog_stats import freshness_lines, stale_entries
from bot.core.matching import Matcher
from bot.core.replies import entry_summary, reply_for_entry
from bot.errors import ConfigError

BUILTIN = default_catalog_dir()
SHIPPED_ID = "claude-code-529-overloaded"


def _entry(entry_id: str, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": entry_id,
        "tool": "Acme Proxy",
        "category": "network",
        "title": "Acme proxy refused the request (policy block)",
        "signature": "ACME-PROXY-451: request to model gateway blocked by egress policy",
        "variants": ["acme-proxy: 451 egress policy denied upstream model gateway"],
        "examples": ["our acme proxy keeps saying ACME-PROXY-451 egress policy when I run the agent"],
        "quick_fix": "Ask for the model gateway to be allowed in the egress policy of your team.",
        "meaning": "The company proxy stopped the call before it left the network.",
        "why": "The egress policy lists the hosts each team may reach; the gateway is not on yours.",
        "causes": ["A new team without the gateway in its policy."],
        "fixes": ["File an egress request for the gateway host."],
        "checks": ["Run acme-proxy whoami to see which policy applies."],
        "steps": ["Check the policy.", "Request access.", "Retry after it is granted."],
        "prevention": ["Ask for access when a team is created."],
        "faq": [{"q": "Is the vendor down?", "a": "No, the request never left our network."}],
        "evidence": {"note": "Internal runbook.", "urls": ["https://wiki.example.com/acme-proxy-451"]},
        "updated": "2026-01-10",
    }
    data.update(changes)
    return data


def _write(folder: Path, data: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_knowledge_setting_takes_builtin_and_team_folders(tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    settings = Settings.from_env({"SUPPORTBOT_KNOWLEDGE": f"builtin:{team}"})
    assert settings.knowledge_folders == (BUILTIN, team)
    assert Settings.from_env({}).knowledge_folders == (BUILTIN,)
    with pytest.raises(ConfigError, match="nowhere"):
        Settings.from_env({"SUPPORTBOT_KNOWLEDGE": f"builtin:{tmp_path / 'nowhere'}"})
    assert parse_folders(f"{team}:builtin::{team}") == ((team, BUILTIN), [])


def test_a_team_folder_adds_entries_and_replaces_by_id(tmp_path: Path) -> None:
    team = tmp_path / "team"
    _write(team, _entry("acme-proxy-451-egress-blocked", related=[SHIPPED_ID]))
    shipped = load_catalog(BUILTIN)
    replaced = yaml.safe_load((BUILTIN / f"{SHIPPED_ID}.yaml").read_text(encoding="utf-8"))
    replaced["quick_fix"] = "Our own advice: wait five minutes, then use the internal mirror."
    _write(team, replaced)
    catalog = load_folders([BUILTIN, team])
    assert len(catalog) == len(shipped) + 1
    assert catalog.get(SHIPPED_ID).quick_fix.startswith("Our own advice")
    assert catalog.get(SHIPPED_ID).source_file == f"{team}/{SHIPPED_ID}.yaml"
    best = Matcher(catalog).match("ACME-PROXY-451: request to model gateway blocked by egress policy").best
    assert best is not None and best.entry_id == "acme-proxy-451-egress-blocked"
    # The other order: the shipped entry wins again.
    assert load_folders([team, BUILTIN]).get(SHIPPED_ID).quick_fix == shipped.get(SHIPPED_ID).quick_fix


def test_folders_are_validated_together_and_problems_name_their_folder(tmp_path: Path) -> None:
    team = tmp_path / "team"
    _write(team, _entry("acme-proxy-451-egress-blocked", related=["no-such-entry", SHIPPED_ID]))
    _write(team, _entry("acme-broken", category="weather"))
    result = check_folders([BUILTIN, team])
    assert not result.ok
    files = {(p.file, p.field) for p in result.problems}
    assert (f"{team}/acme-proxy-451-egress-blocked.yaml", "related") in files  # no-such-entry only
    assert (f"{team}/acme-broken.yaml", "category") in files
    assert len([p for p in result.problems if p.field == "related"]) == 1
    assert all(p.file.startswith(str(team)) for p in result.problems)
    # A broken shipped-looking folder is named "builtin" when it is the shipped one.
    copy = tmp_path / "copy"
    shutil.copytree(BUILTIN, copy)
    (copy / "bad.yaml").write_text("id: [", encoding="utf-8")
    assert {p.file for p in check_folders([copy, team]).problems} >= {f"{copy}/bad.yaml"}


def test_catalog_check_cli_checks_every_folder(tmp_path: Path) -> None:
    from tests.test_cli import run

    team = tmp_path / "team"
    _write(team, _entry("acme-broken", category="weather"))
    done = run("catalog", "check", "--json", env={"SUPPORTBOT_KNOWLEDGE": f"builtin:{team}"})
    assert done.returncode == 2
    report = __import__("json").loads(done.stdout)
    assert report["errors"] == [{"file": f"{team}/acme-broken.yaml", "field": "category",
                                 "problem": report["errors"][0]["problem"]}]
    assert report["entries"] == len(load_catalog(BUILTIN))
    _write(team, _entry("acme-broken"))
    ok = run("catalog", "check", env={"SUPPORTBOT_KNOWLEDGE": f"builtin:{team}"})
    assert ok.returncode == 0 and f"{len(load_catalog(BUILTIN)) + 1} entries" in ok.stdout


async def test_hot_reload_watches_every_folder(tmp_path: Path) -> None:
    from bot.app import open_app
    from bot.runner import watch_catalog

    team = tmp_path / "team"
    _write(team, _entry("acme-proxy-451-egress-blocked"))
    settings = Settings.from_env({"SUPPORTBOT_DB": f"sqlite:///{tmp_path / 'bot.db'}",
                                  "SUPPORTBOT_KNOWLEDGE": f"builtin:{team}"})
    before = stamp(settings.knowledge_folders)
    async with open_app(settings) as app:
        assert app.service.catalog.get("acme-proxy-451-egress-blocked") is not None
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_catalog(app, stop, interval=0.05))
        _write(team, _entry("acme-cli-login-expired", title="Acme CLI login expired",
                            signature="acme: session expired, run acme login --sso again"))
        await _until(lambda: app.service.catalog.get("acme-cli-login-expired") is not None)
        assert stamp(settings.knowledge_folders) != before
        stop.set()
        await watcher


async def _until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def test_freshness_fields_are_validated(tmp_path: Path) -> None:
    team = tmp_path / "team"
    _write(team, _entry("acme-fresh", applies_to=["acme-proxy 3.x"], reviewed="2026-02-01", retired=False))
    _write(team, _entry("acme-bad-fresh", applies_to="3.x", reviewed="last week", retired="yes"))
    problems = {(p.file, p.field) for p in check_folders([team]).problems}
    assert problems == {("acme-bad-fresh.yaml", "applies_to"), ("acme-bad-fresh.yaml", "reviewed"),
                        ("acme-bad-fresh.yaml", "retired")}


def test_stats_list_entries_not_reviewed_for_180_days_and_retired_entries_say_so(tmp_path: Path) -> None:
    team = tmp_path / "team"
    _write(team, _entry("acme-old", updated="2025-01-01"))
    _write(team, _entry("acme-reviewed", updated="2025-01-01", reviewed="2026-05-01"))
    _write(team, _entry("acme-retired", updated="2026-05-01", retired=True, applies_to=["acme-proxy < 3.0"],
                        signature="acme-legacy-agent: TLS handshake with the old relay failed (code R-7)",
                        variants=[], examples=[]))
    catalog = load_folders([team])
    today = dt.date(2026, 6, 1)
    assert [e.id for e in stale_entries(catalog.entries, today)] == ["acme-old"]
    assert [e.id for e in stale_entries(catalog.entries, today, days=10)] == ["acme-old", "acme-retired",
                                                                              "acme-reviewed"]
    assert any("acme-old" in line for line in freshness_lines(catalog.entries, today))
    retired = catalog.get("acme-retired")
    summary = entry_summary(retired)
    assert "no longer applies to current versions" in summary and "acme-proxy < 3.0" in summary
    assert retired.quick_fix in summary
    assert "no longer applies" in reply_for_entry(retired, catalog).summary
    assert "no longer applies" not in entry_summary(catalog.get("acme-old"))
    # A retired entry still answers its error.
    best = Matcher(catalog).match(retired.signature).best
    assert best is not None and best.entry_id == "acme-retired"


def test_catalog_stats_cli_lists_stale_and_retired_entries(tmp_path: Path) -> None:
    import json

    from tests.test_cli import run

    team = tmp_path / "team"
    _write(team, _entry("acme-old", updated="2020-01-01"))
    _write(team, _entry("acme-retired", retired=True, reviewed=dt.date.today().isoformat(),
                        signature="acme-legacy-agent: TLS handshake with the old relay failed (code R-7)"))
    done = run("catalog", "stats", str(team), "--json")
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert [s["id"] for s in stats["stale"]] == ["acme-old"] and stats["retired"] == ["acme-retired"]
    text = run("catalog", "stats", str(team)).stdout
    assert "1 entries not reviewed for 180 days" in text and "acme-old  last reviewed 2020-01-01" in text
    assert run("catalog", "stats", str(team), "--stale-days", "-1").returncode == 2

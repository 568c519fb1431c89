"""A catalog folder is input too: what it holds must not hang, flood memory or slow the matcher."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import catalog_safety
from bot.core.catalog import check_catalog, default_catalog_dir
from bot.core.catalog_safety import MAX_FILE_BYTES, MAX_YAML_DEPTH, load_yaml, pattern_problem

SEED = "claude-code-quota-increases-without-tasks"


def _seed_text(new_id: str) -> str:
    text = (default_catalog_dir() / f"{SEED}.yaml").read_text(encoding="utf-8")
    return text.replace(f"id: {SEED}", f"id: {new_id}").split("related:")[0] + "updated: 2026-11-24\n"


def _problems(folder: Path) -> dict[str, str]:
    return {p.file: p.problem for p in check_catalog(folder).problems}


def _catalog_check(folder: Path) -> subprocess.CompletedProcess[str]:
    # A hang would fail this test by its timeout instead of blocking the suite.
    return subprocess.run([sys.executable, "-m", "bot", "catalog", "check", str(folder), "--json"],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(_seed_text("good"), encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.yaml")
    result = _catalog_check(tmp_path)
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["ids"] == ["good"]
    assert [e["problem"] for e in report["errors"] if e["file"] == "pipe.yaml"] == [
        "is not a regular file (a named pipe); only plain files are read"]


def test_a_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "inside.yaml").symlink_to(tmp_path / "zero.yaml")
    problems = _problems(tmp_path)
    assert "outside the catalog folder" in problems["zero.yaml"]
    assert "outside the catalog folder" in problems["inside.yaml"]  # a chain ending outside, too


def test_a_folder_named_yaml_is_not_read(tmp_path: Path) -> None:
    # Whatever the name says, the opened file itself must be a regular file.
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "dir.yaml").mkdir()
    assert "is not a regular file (a folder)" in _problems(catalog)["dir.yaml"]


def test_symlink_out_of_the_folder_is_refused_and_inside_is_followed(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.yaml").write_text(_seed_text("secret"), encoding="utf-8")
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "real.yaml").write_text(_seed_text("real"), encoding="utf-8")
    (catalog / "secret.yaml").symlink_to(outside / "secret.yaml")
    result = check_catalog(catalog)
    assert [e.id for e in result.entries] == ["real"]
    assert {p.file for p in result.problems} == {"secret.yaml"}


def test_size_limit_is_enforced_while_reading(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    assert "the limit is" in _problems(tmp_path)["big.yaml"]


def test_alias_bomb_is_refused_before_expansion(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 12):
        previous = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
    text = _seed_text("bomb").replace("updated: 2026-11-24", "updated: *l") + "\n".join(lines) + "\n"
    (tmp_path / "bomb.yaml").write_text(text, encoding="utf-8")
    problem = _problems(tmp_path)["bomb.yaml"]
    assert "aliases (*name) are not allowed" in problem


def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("id: deep\nnested: " + "[" * 100_000 + "]" * 100_000 + "\n",
                                        encoding="utf-8")
    (tmp_path / "deep-block.yaml").write_text(
        "".join("  " * level + f"k{level}:\n" for level in range(200)) + "  " * 200 + "v: 1\n", encoding="utf-8")
    problems = _problems(tmp_path)
    assert f"nested deeper than {MAX_YAML_DEPTH} levels" in problems["deep.yaml"]
    assert f"nested deeper than {MAX_YAML_DEPTH} levels" in problems["deep-block.yaml"]


def test_absurd_scalars_are_problems_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "digits.yaml").write_text("id: !!int " + "9" * 100_000 + "\n", encoding="utf-8")
    assert "not valid YAML" in _problems(tmp_path)["digits.yaml"]


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+$", r"(\w+\s?)*$", r"^(\s*\w+)*$", r"(x+x+)+y", r"(.*a){12}", r"(?:\d+)*x"],
)
def test_nested_quantifiers_are_refused(pattern: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None and "repeated group holds another repeat" in problem


@pytest.mark.parametrize("pattern", [r"(a|a)*$", r"(?:a|ab)*c", r"a.*b.*c.*d.*e", r"(?:\w++\s?)*x"])
def test_slow_patterns_are_caught_by_the_trial(pattern: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None and "too slow on adversarial text" in problem


@pytest.mark.parametrize("pattern", [r"\d+-minute credit limit", r"(?:\w++\s?)*x"])
def test_quadratic_patterns_are_caught_by_their_growth_even_when_each_trial_is_quick(pattern: str) -> None:
    # Each search of the longest trial text may end under the time budget on a fast machine; its
    # time quadrupling as the text doubles is what gives it away.
    problem = pattern_problem(pattern)
    assert problem is not None and "too slow on adversarial text" in problem


@pytest.mark.parametrize("pattern", [r"\b\d{1,4}-minute credit limit", r"API Error: 5\d\d", r"rate.?limit"])
def test_linear_patterns_pass_the_growth_trial(pattern: str) -> None:
    assert pattern_problem(pattern) is None


@pytest.mark.parametrize(
    "pattern",
    [r"(?:\.\d+)*\b", r"(?:-\w+)?x", r"\bAPI Error:? ?\(?\s?529\b", r"(?>a+)+b",
     r"\bgemini\b.{0,120}\b429\b.{0,80}\b(resource[_ ]exhausted)"],
)
def test_safe_patterns_pass(pattern: str) -> None:
    assert pattern_problem(pattern) is None


def test_catastrophic_pattern_in_a_file_is_refused_with_its_place(tmp_path: Path) -> None:
    text = _seed_text("slow").replace("patterns:\n", "patterns:\n  - '(a+)+$'\n")
    (tmp_path / "slow.yaml").write_text(text, encoding="utf-8")
    result = check_catalog(tmp_path)
    assert result.entries == ()
    [problem] = result.problems
    assert (problem.file, problem.field) == ("slow.yaml", "patterns")
    assert problem.problem.startswith("item 1: a repeated group holds another repeat")


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_file_content_is_a_problem_or_an_entry_never_an_exception(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(content)
    result = check_catalog(tmp_path)
    assert result.entries or result.problems


@settings(deadline=None, max_examples=60)
@given(st.text(alphabet="[]{}:-,&*!|>'\"# \n\tab1", max_size=200))
def test_load_yaml_raises_only_yaml_or_value_errors(text: str) -> None:
    import yaml

    try:
        data = load_yaml(text)
    except (yaml.YAMLError, ValueError) as exc:
        assert str(exc)  # a message an author can act on
    else:
        assert data is None or isinstance(data, (dict, list, str, int, float, bool, bytes, dt.date))


def test_a_slow_but_linear_pattern_is_not_refused_for_its_growth(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two bounded gaps: each start may look 80 x 80 characters ahead, so a search of the trial text
    # takes milliseconds, near the growth floor, yet it only doubles as the text doubles. On a busy
    # machine a few inflated times at the longest text made it look quadratic; here the first three
    # searches of that text are made to take three times as long, as other work on the machine would.
    pattern = (r"(usage|quota|meter|session|weekly)\b.{0,80}\b(went|jumped|rose|increas\w*|higher)\b.{0,80}"
               r"\b(idle|nothing (was )?running|no (active )?tasks|asleep|away)")
    real = catalog_safety._cpu_seconds
    busy = {"left": 3}

    def sometimes_slowed(compiled: re.Pattern[str], text: str) -> float:
        elapsed = real(compiled, text)
        if len(text) > catalog_safety.TRIAL_CHARS and busy["left"]:
            busy["left"] -= 1
            return 3 * max(elapsed, catalog_safety.GROWTH_FLOOR_SECONDS / 2)
        return elapsed

    monkeypatch.setattr(catalog_safety, "_cpu_seconds", sometimes_slowed)
    assert pattern_problem(pattern) is None
    assert busy["left"] == 0  # the slowed searches did happen

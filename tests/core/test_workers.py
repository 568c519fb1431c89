"""Worker processes only when the program allowed them, and the same results either way."""

from __future__ import annotations

import os

import pytest

from bot.core import workers


def test_no_process_is_started_unless_the_program_allowed_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "PARALLEL_MIN_ITEMS", 2)
    monkeypatch.setattr(workers, "_allowed", False)
    assert workers.workers(1_000) == 1
    workers.allow_processes()
    assert workers.workers(1) == 1  # too few to be worth a process
    expected = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
                   workers.MAX_WORKERS)
    assert workers.workers(1_000) == expected


def test_the_results_are_in_order_and_the_same_in_worker_processes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    items = [f"item {n}" for n in range(50)]
    alone = workers.map_in_workers(str.upper, items)
    monkeypatch.setattr(workers, "workers", lambda count: 2)
    assert workers.map_in_workers(str.upper, items) == alone == [item.upper() for item in items]
    assert "in this process instead" not in caplog.text


def test_work_that_cannot_be_sent_to_a_worker_is_done_here(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(workers, "workers", lambda count: 2)
    assert workers.map_in_workers(lambda item: item * 2, [1, 2, 3]) == [2, 4, 6]  # a lambda cannot be pickled
    assert "in this process instead" in caplog.text

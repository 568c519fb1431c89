"""Small builders for readings shared by the tally and detection tests.

The reading builder is the detection simulator's own, so the tests and `benchmarks/detection_quality.py`
describe reports the same way.
"""

from __future__ import annotations

from benchmarks.detection_sim import reading

__all__ = ["reading"]

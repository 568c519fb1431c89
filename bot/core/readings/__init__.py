"""Quota readings: turn a pasted usage screen, limit notice or casual report into structured readings.

- ``lexicon/`` holds the vocabulary, one data file per language (see ``lexicon.py``);
- ``formats/`` holds one record per known tool output format, with sample texts (see ``formats.py``);
- ``times.py`` reads reset times and resolves them to UTC;
- ``parser.py`` is the pipeline: clean, find statements, attach resets, pair jumps, merge, idle.

The parser compiles its vocabulary into regular expressions when first used, not when this package
is imported, so commands that never read a quota report start as fast as before.
"""

from __future__ import annotations

import datetime as dt

from bot.core.models import ParsedReadings
from bot.core.readings.fingerprint import reading_fingerprint

__all__ = ["parse_readings", "reading_fingerprint"]


def parse_readings(text: str, now: dt.datetime | None = None) -> ParsedReadings:
    """Parse every quota reading in `text` (see tests/data/eval/READINGS.md for the rules).

    `now` anchors relative resets ("in 3h") and clock times without a date; it defaults to the
    current time. Never raises on odd input: anything unreadable simply yields no reading.
    """
    from bot.core.readings import parser  # compiled on first use

    return parser.parse_readings(text, now)

"""Quota readings: turn a pasted usage screen, limit notice or casual report into structured readings.

- ``lexicon/`` holds the vocabulary, one data file per language (see ``lexicon.py``);
- ``formats/`` holds one record per known tool output format, with sample texts (see ``formats.py``);
- ``times.py`` reads reset times and resolves them to UTC;
- ``parser.py`` is the pipeline: clean, find statements, attach resets, pair jumps, merge, idle.
"""

from bot.core.readings.parser import parse_readings, reading_fingerprint

__all__ = ["parse_readings", "reading_fingerprint"]

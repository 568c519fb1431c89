"""A short stable hash of what was read (kept apart from the parser so it imports nothing heavy)."""

from __future__ import annotations

import hashlib
import json
import re

from bot.core.models import ParsedReadings

__all__ = ["reading_fingerprint"]


def reading_fingerprint(parsed: ParsedReadings) -> str:
    """A short stable hash of what was read, to spot the same reading sent twice.

    Order-free (readings are a multiset) and blind to how the reset was spaced or capitalised.
    """
    rows = sorted(
        json.dumps(
            [
                r.window,
                r.percent,
                r.from_percent,
                r.limit_hit,
                re.sub(r"\s+", " ", r.resets).strip().lower() if r.resets else None,
            ]
        )
        for r in parsed.readings
    )
    payload = json.dumps([parsed.tool, rows], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

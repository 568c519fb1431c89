"""A memory of recent things that cannot grow: past its limit, the oldest are forgotten first."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(OrderedDict[K, V]):
    """An insertion-ordered mapping that drops its oldest keys to stay within `limit` (a busy
    workspace must not grow a process's memory: event ids, channel names, helped threads)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        while len(self) > self.limit:
            self.popitem(last=False)

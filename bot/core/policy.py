"""The few settings the core acts on, as one small value built by the composition root.

The core never reads the environment or `bot.config`; `Settings.policy()` hands it this instead, so a
test can build one in a line and every front end is governed by the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.models import ChannelMode


@dataclass(frozen=True, slots=True)
class Policy:
    default_channel_mode: ChannelMode = ChannelMode.AUTO
    # Person ids that are staff everywhere: "U0123" or "slack:U0123".
    staff_ids: frozenset[str] = frozenset()
    # Per platform, the channels (ids, or names without '#') whose pastes are answered; none listed: all.
    watch_channels: Mapping[str, frozenset[str]] = field(default_factory=dict)
    reports_per_hour: int = 20
    duplicate_minutes: int = 10
    merge_seconds: int = 120  # one person's pastes within this many seconds share one answer

    def is_staff_id(self, platform: str, user_id: str) -> bool:
        return user_id in self.staff_ids or f"{platform}:{user_id}" in self.staff_ids

    def watches(self, platform: str, channel_id: str, channel_name: str = "") -> bool:
        """Whether pastes in this channel are looked at; a channel is named by id or by name."""
        watched = self.watch_channels.get(platform)
        if not watched:
            return True
        return channel_id in watched or (bool(channel_name) and channel_name.lstrip("#") in watched)

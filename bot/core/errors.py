"""The small error tree, owned by the core: everything the bot raises on purpose is one of these.

Expected misses (no match, no reading) are return values, not exceptions. Adapters translate SDK
errors into `DeliveryError` at their edge, so the core never sees a platform's exception types.
"""

from __future__ import annotations

from bot.core.catalog_problem import CatalogProblem


class BotError(Exception):
    """Base of every error the bot raises on purpose; its message is safe to show a user."""


class ConfigError(BotError):
    """A setting is missing or malformed; the message names the setting, never its value."""


class CatalogError(BotError):
    """The catalog folder has problems; `problems` lists every one of them."""

    def __init__(self, problems: list[CatalogProblem]) -> None:
        self.problems = problems
        first = problems[0] if problems else None
        summary = f"{len(problems)} problem(s) in the catalog"
        if first is not None:
            summary += f"; first: {first.file}: {first.field}: {first.problem}"
        super().__init__(summary)


class StartupError(BotError):
    """A front end could not start for good (a rejected token); the message names the setting."""


class StoreError(BotError):
    """The incident store could not be reached or refused an operation."""


class DeliveryError(BotError):
    """A chat platform refused or failed a call (post, edit, react, read a thread); the message says which."""


class UsageError(BotError):
    """Bad input from a user of the command line or a chat command."""


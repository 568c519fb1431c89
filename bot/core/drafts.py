"""A catalog entry skeleton drafted from a gap cluster (`supportbot catalog draft CLUSTER`).

What the pastes tell is filled in: an id and a tool guessed, the template as the signature, the
members' distinct literal error lines as variants, the masked samples as examples, a category
guessed from the words. Everything a person must write is `TODO`, which `catalog check` reports
until it is written, so a draft cannot be served by accident.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection

import yaml

from bot.core.catalog import ID_PATTERN
from bot.core.gaps import JSON_KEY, WILDCARD, GapCluster
from bot.core.normalize import normalize_cleaned

MAX_ID_WORDS = 6
CATEGORY_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("quota-rate", re.compile(r"\b(quota|rate.?limit\w*|too many requests|429|limit (?:reached|exceeded)|"
                              r"usage limit|credits?|exhausted)\b", re.IGNORECASE)),
    ("auth", re.compile(r"\b(401|403|unauthori[sz]ed|forbidden|token|log(?:ged)? ?in|sign(?:ed)? ?in|oauth|"
                        r"credential\w*|authenticat\w*|api key|verif\w+)\b", re.IGNORECASE)),
    ("billing-tracking", re.compile(r"\b(billing|invoice|payment|subscription|plan)\b", re.IGNORECASE)),
    ("network", re.compile(r"\b(econn\w+|etimedout|timed? ?out|timeout|proxy|tls|ssl|certificate|dns|"
                           r"unable to connect|connection|network|socket|stream disconnected)\b", re.IGNORECASE)),
    ("model-provider", re.compile(r"\b(model|provider|400|invalid_request|overloaded|5\d\d)\b", re.IGNORECASE)),
    ("config", re.compile(r"\b(config\w*|settings?|\.json|\.toml|\.ya?ml|schema|mcp)\b", re.IGNORECASE)),
    ("ui-crash", re.compile(r"\b(crash\w*|render\w*|ui|window|freez\w+)\b", re.IGNORECASE)),
)
FILLER = frozenset("a an and are as at be been but by can could for from has have i in is it its just me my "
                   "now of on or so that the this to type was we were what when which with error errors "
                   "message api please your you".split())


class _Dumper(yaml.SafeDumper):
    """Multi-line text (a pasted example) as a `|` block, the way people read and edit it."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        lines = [line.rstrip() for line in value.splitlines()]
        return dumper.represent_scalar("tag:yaml.org,2002:str", "\n".join(lines), style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _text)


def guess_category(text: str) -> str:
    """The first category whose words the text carries; `local-runtime` when none does."""
    for category, words in CATEGORY_WORDS:
        if words.search(text):
            return category
    return "local-runtime"


def guess_id(cluster: GapCluster, taken: Collection[str]) -> str:
    """`<tool>-<a few words of the template>`, lower-case and hyphenated, not one of `taken`."""
    tool_words = normalize_cleaned(cluster.tool or "").split()
    template_words = [w for w in normalize_cleaned(JSON_KEY.sub(" ", cluster.template.replace(WILDCARD, " "))).split()
                      if w.isascii() and w.isalnum() and w not in FILLER and w not in tool_words
                      and w not in ("num", "hex", "path", "url", "uuid", "id", "time", "email")]
    words = [*tool_words[:2], *template_words[:MAX_ID_WORDS]] or ["gap", cluster.id]
    base = "-".join(words)[:60].strip("-")
    if not ID_PATTERN.match(base):
        base = f"gap-{cluster.id.lower()}"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def draft_entry(cluster: GapCluster, taken: Collection[str] = (), today: dt.date | None = None) -> tuple[str, str]:
    """(entry id, YAML text) of an entry skeleton for `cluster`."""
    entry_id = guess_id(cluster, taken)
    signature = cluster.template.replace(WILDCARD, "…")
    variants = [line for line in cluster.lines if normalize_cleaned(line) != normalize_cleaned(signature)]
    everything = " ".join((cluster.template, *cluster.lines))
    data: dict[str, object] = {
        "id": entry_id,
        "tool": cluster.tool or "TODO the product that prints this",
        "category": guess_category(everything),
        "title": "TODO one line naming the error",
        "signature": signature,
        "variants": variants,
        "examples": list(cluster.samples),
        "quick_fix": "TODO one concrete action",
        "meaning": "TODO what the error means",
        "why": "TODO why it happens",
        "causes": ["TODO a common cause"],
        "fixes": ["TODO a fix: command, setting, what to check first"],
        "checks": ["TODO a check specific to the tool"],
        "steps": ["TODO first step", "TODO next step"],
        "prevention": ["TODO how to avoid it"],
        "faq": [{"q": "TODO a question people ask", "a": "TODO its answer"}],
        "evidence": {"note": "TODO what the public reports say, in our words",
                     "urls": ["https://example.com/TODO-public-report"]},
        "updated": (today or dt.date.today()).isoformat(),
    }
    if not variants:
        del data["variants"]
    header = (
        f"# Drafted from gap cluster {cluster.id}: {cluster.count} paste(s) by {cluster.people} "
        f"{'person' if cluster.people == 1 else 'people'}, {cluster.first_seen:%Y-%m-%d} to "
        f"{cluster.last_seen:%Y-%m-%d}.\n"
        "# Guessed: id, tool and category. Check them, replace every TODO, trim the examples to what\n"
        "# people would paste, add `patterns` for the stable wording, then run `supportbot catalog check`.\n"
    )
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110,
                     default_flow_style=False)
    return entry_id, header + body

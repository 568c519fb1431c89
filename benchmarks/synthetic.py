"""Synthetic catalogs of any size, made by perturbing the shipped entries.

A large real catalog (every AI coding tool's errors, plus each team's own) keeps the shape of ours:
entries of the same length and structure, the same generic words ("error", "rate limit", "429"), the
same tools, but each error with its own distinctive wording. So every synthetic entry is a copy of a
shipped entry in which most distinctive words are replaced, consistently across its literals,
examples, prose and regular expressions, by invented words drawn from a skewed vocabulary (a few
invented words are common, most are rare, as in real jargon). Generic error words, stopwords and tool
names are kept, and a small share of the original distinctive words survives, so the shipped entries
face real competition.

The shipped entries stay in the catalog unchanged: development pastes keep their expected answers, and
accuracy on a synthetic catalog says how well the right entry still wins among many near neighbours.

Usage: python benchmarks/synthetic.py N [--seed S] [--out DIR]   (prints the folder it wrote)
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import random
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot.core.catalog import check_catalog, default_catalog_dir
from bot.core.matching import GENERIC_ERROR_WORDS, STOPWORDS, TOOL_NAME_WORDS
from bot.core.regex_prefilter import required_fragments

_required = functools.cache(required_fragments)
KEEP_SHARE = 0.15  # distinctive words that survive in a copy
VOCABULARY = 60_000
WORD = re.compile(r"[A-Za-z]{4,}")
TEXT_FIELDS = ("title", "signature", "quick_fix", "meaning", "why")
TEXT_LIST_FIELDS = ("variants", "examples", "causes", "fixes", "checks", "steps", "prevention")
KEEP_WORDS = GENERIC_ERROR_WORDS | STOPWORDS | TOOL_NAME_WORDS | frozenset(
    "with from that this have your when were will been they what into then than also only just more "
    "some after before while every none tool tools user users".split()
)

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def invented_word(number: int) -> str:
    """A pronounceable word that no error message uses: consonant-vowel syllables from a number."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    syllables = []
    for _ in range(3):
        number, c = divmod(number, len(consonants))
        number, v = divmod(number, len(vowels))
        syllables.append(consonants[c] + vowels[v])
    return "".join(syllables) + ("x" if number % 2 else "q") + consonants[number // 2 % len(consonants)]


class _Perturber:
    """One synthetic entry's word map, applied alike to its prose, literals and patterns."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.mapping: dict[str, str] = {}

    def _draw(self) -> str:
        # Skewed: a third of the draws come from a log-uniform head (shared jargon), the rest uniform.
        if self.rng.random() < 0.33:
            return invented_word(int(VOCABULARY ** self.rng.random()) - 1)
        return invented_word(self.rng.randrange(VOCABULARY))

    def word(self, original: str, force: bool = False) -> str:
        key = original.lower()
        if key in KEEP_WORDS and not force:
            return original
        if key not in self.mapping or (force and self.mapping[key] == key):
            self.mapping[key] = key if (not force and self.rng.random() < KEEP_SHARE) else self._draw()
        new = self.mapping[key]
        if original.isupper():
            return new.upper()
        if original[0].isupper():
            return new.capitalize()
        return new

    def text(self, text: str) -> str:
        changed = WORD.sub(lambda m: self.word(m.group(0)), text)
        if changed == text:  # every copy must differ from its original somewhere
            words = WORD.findall(text)
            if words:
                longest = max(words, key=len)
                changed = re.sub(rf"\b{re.escape(longest)}\b", self.word(longest, force=True), text, count=1)
            else:
                changed = f"{text} {self._draw()}"
        return changed

    def pattern(self, pattern: str) -> str | None:
        """Replace the literal words of a regular expression, leaving its syntax alone."""
        out: list[str] = []
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "\\":
                out.append(pattern[i : i + 2])
                i += 2
            elif ch == "[":
                end = i + 1
                while end < len(pattern) and pattern[end] != "]":
                    end += 2 if pattern[end] == "\\" else 1
                out.append(pattern[i : end + 1])
                i = end + 1
            elif ch == "(" and pattern.startswith("(?", i):
                header = re.match(r"\(\?(?:P<\w+>|P=\w+\)|<[=!]|[=!:]|[aiLmsux-]+[:)])", pattern[i:])
                step = len(header.group(0)) if header else 2
                out.append(pattern[i : i + step])
                i += step
            elif ch == "{":
                end = pattern.find("}", i)
                end = len(pattern) - 1 if end < 0 else end
                out.append(pattern[i : end + 1])
                i = end + 1
            elif ch.isalpha():
                end = i
                while end < len(pattern) and pattern[end].isalpha():
                    end += 1
                run = pattern[i:end]
                out.append(self.word(run) if len(run) >= 4 else run)
                i = end
            else:
                out.append(ch)
                i += 1
        result = "".join(out)
        # Only letters were swapped for letters, so the syntax is intact; but a copy whose required words
        # are all generic or kept would fire on the original's pastes as well, which no sane catalog has.
        for requirement in _required(pattern):
            if all(any(self.mapping.get(w, w) != w for w in WORD.findall(fragment)) for fragment in requirement):
                return result
        return None


def perturb(data: dict[str, Any], new_id: str, rng: random.Random) -> dict[str, Any]:
    """A synthetic copy of one entry's YAML mapping."""
    p = _Perturber(rng)
    out = dict(data)
    out["id"] = new_id
    for key in TEXT_FIELDS:
        if isinstance(data.get(key), str):
            out[key] = p.text(data[key])
    for key in TEXT_LIST_FIELDS:
        if isinstance(data.get(key), list):
            out[key] = [p.text(item) for item in data[key]]
    if isinstance(data.get("faq"), list):
        out["faq"] = [{"q": p.text(item["q"]), "a": p.text(item["a"])} for item in data["faq"]]
    if isinstance(data.get("patterns"), list):
        out["patterns"] = [q for q in (p.pattern(item) for item in data["patterns"]) if q is not None]
        if not out["patterns"]:
            del out["patterns"]
    return out


def shipped_mappings(folder: Path | None = None) -> list[tuple[str, dict[str, Any]]]:
    folder = folder or default_catalog_dir()
    return [(path.name, yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader))
            for path in sorted(folder.glob("*.yaml"))]


def make_catalog(size: int, *, seed: int = 14, out: Path | None = None) -> Path:
    """A folder holding the shipped entries plus synthetic ones, `size` entries in all; reused when present."""
    shipped_dir = default_catalog_dir()
    shipped = shipped_mappings(shipped_dir)
    fingerprint = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(shipped_dir.glob("*.yaml"))))
    fingerprint.update(Path(__file__).read_bytes())
    tag = f"{size}-{seed}-{fingerprint.hexdigest()[:10]}"
    folder = out or Path(tempfile.gettempdir()) / "supportbot-bench" / f"catalog-{tag}"
    done = folder / ".complete"
    if done.exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, _ in shipped:
        shutil.copyfile(shipped_dir / name, folder / name)
    rng = random.Random(seed)
    for number in range(max(0, size - len(shipped))):
        _, data = shipped[number % len(shipped)]
        new_id = f"{data['id']}-s{number:05d}"
        # JSON is YAML too, and writing it is a hundred times cheaper than PyYAML's representer.
        text = json.dumps(perturb(data, new_id, rng), ensure_ascii=False, indent=1, default=str)
        (folder / f"{new_id}.yaml").write_text(text + "\n", encoding="utf-8")
    done.write_text(tag)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--check", action="store_true", help="validate the catalog written")
    args = parser.parse_args(argv)
    folder = make_catalog(args.size, seed=args.seed, out=args.out)
    print(folder)
    if args.check:
        result = check_catalog(folder)
        print(f"{len(result.entries)} entries, {len(result.problems)} problem(s)")
        for problem in result.problems[:20]:
            print(" ", problem)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Mask secrets people paste along with their errors, before anything is stored, logged or echoed.

Each rule keeps a short, recognisable prefix ("sk-ant-…") so support staff can still tell which kind
of credential leaked and advise rotating it, while the secret itself never leaves the process.

Every rule runs in time linear in the text, whatever the text is (a chat message is hostile input):
a rule that needs something after a run of characters (the "@" of an e-mail address, the "." of a
JSON web token, the "=" of key=value) starts only where such a run starts (a look-behind guard), and
consumes the run possessively, so a long run is read once instead of once per position inside it.
`mask_url` is the one function that hides passwords in database and service URLs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

MASK = "[masked]"
URL_MASK = "***"

# Full-width forms (ｓｋ-ａｎｔ-…) read as their ASCII twins; invisible characters that split a token
# ("sk-\u200bant-…") are dropped. Both are how a token slips past a pattern while staying usable.
_FOLD: dict[int, int | None] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0x200B: None, 0x2060: None, 0xFEFF: None, 0x00AD: None})
_NEEDS_FOLD = re.compile("[\uff01-\uff5e\u3000\u200b\u2060\ufeff\u00ad]")

# Names whose value is a secret in key=value, "key": "value" and --key value forms.
_SECRET_WORDS = r"api[_-]?key|secret|password|passwd|pwd|token|access[_-]?key|credential"

# A count is no secret: "max_tokens: 4096" stays, "password: 1234" does not.
_COUNT_NAME = re.compile(r"token|key", re.IGNORECASE)
_PASSWORD_NAME = re.compile(r"secret|password|passwd|pwd|credential", re.IGNORECASE)


def _is_count(name: str, value: str) -> bool:
    return value.strip("\"'").isdigit() and not _PASSWORD_NAME.search(name) and bool(_COUNT_NAME.search(name))


_Replacement = str | Callable[[re.Match[str]], str]


def _key_value(match: re.Match[str]) -> str:
    """key=value, key: value, "key": "value": mask the value when the key names a secret."""
    name, between, value = match.group("name", "between", "value")
    if value.lstrip("\"'").startswith(MASK) or _is_count(name, value):
        return match.group(0)
    if value[:1] in "\"'" and len(value) >= 2 and value[-1] == value[0]:
        if len(value) == 2:  # an empty quoted value hides nothing
            return match.group(0)
        return f"{name}{between}{value[0]}{MASK}{value[0]}"
    return f"{name}{between}{MASK}"


def _flag_value(match: re.Match[str]) -> str:
    """--api-key VALUE on a command line."""
    name, between, value = match.group("name", "between", "value")
    if value.startswith(MASK) or _is_count(name, value):
        return match.group(0)
    return f"{name}{between}{MASK}"


_RULES: tuple[tuple[re.Pattern[str], _Replacement], ...] = (
    # Private key blocks first: they span lines.
    (re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----.*?(?:-----END [A-Z ]{0,40}PRIVATE KEY-----|\Z)",
                re.DOTALL),
     "-----PRIVATE KEY " + MASK + "-----"),
    (re.compile(r"\bsk-ant-[A-Za-z0-9_-]{2,}+"), "sk-ant-" + MASK),
    (re.compile(r"\bsk-(?:proj-|svcacct-|or-v1-)?[A-Za-z0-9_-]{16,}+"), "sk-" + MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}+"), "xox-" + MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{8,}+"), "xapp-" + MASK),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}+"), "gh_" + MASK),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}+"), "github_pat_" + MASK),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}+"), "glpat-" + MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}+"), "AIza" + MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "AKIA" + MASK),
    (re.compile(r"\bhf_[A-Za-z0-9]{20,}+"), "hf_" + MASK),
    (re.compile(r"\bnpm_[A-Za-z0-9]{30,}+"), "npm_" + MASK),
    # JSON web tokens (OAuth access tokens are often JWTs).
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+"),
     "jwt-" + MASK),
    # Discord bot tokens: three dot-separated base64 parts (bounded repeats: constant work per start).
    (re.compile(r"\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b"), "discord-token-" + MASK),
    # Authorization headers and bearer tokens, whatever the token looks like.
    (re.compile(r"(?i)\b(authorization[ \t]*+[:=][ \t]*+[\"']?(?:bearer|basic|token)?[ \t]*+)[^\s\"',;]++"),
     r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer\s++)[A-Za-z0-9._~+/=-]{8,}+"), r"\1" + MASK),
    (re.compile(r"(?i)\b(x-api-key[ \t]*+[:=][ \t]*+[\"']?)[^\s\"',;]++"), r"\1" + MASK),
    # key=value and "key": "value" forms for secret-looking names. The name is a whole run of [\w-]
    # holding a secret word; the atomic group reads that run once, however many secret words it holds.
    (re.compile(
        r"(?<![\w-])(?P<name>[\"']?(?>[\w-]*?(?:" + _SECRET_WORDS + r")[\w-]*+)[\"']?)"
        r"(?P<between>[ \t]*+[:=][ \t]*+)"
        r"(?P<value>\"[^\"\n]{0,512}+\"|'[^'\n]{0,512}+'|[\"']?[^\s\"',;}]{4,}+)",
        re.IGNORECASE,
    ), _key_value),
    # --api-key VALUE, --token VALUE (command lines pasted with their error).
    (re.compile(
        r"(?<![\w-])(?P<name>--?(?>[\w-]*?(?:" + _SECRET_WORDS + r")[\w-]*+))(?P<between>[ \t]++)"
        r"(?P<value>[^\s\"',;}-][^\s\"',;}]{3,}+)",
        re.IGNORECASE,
    ), _flag_value),
    # Passwords in URLs: scheme://user:password@host, up to the LAST "@" before the path, so a
    # password holding a raw "@" is masked whole.
    (re.compile(r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*+://[^\s:/@]++:)[^\s/]*@", re.IGNORECASE),
     r"\1" + MASK + "@"),
    # E-mail addresses: personal data, not needed to recognise an error.
    (re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)*\.[a-z]{2,}\b", re.IGNORECASE), "[email]"),
)


def fold_lookalikes(text: str) -> str:
    """Full-width letters to ASCII, invisible token-splitting characters removed (linear)."""
    return text.translate(_FOLD) if _NEEDS_FOLD.search(text) else text


def mask_secrets(text: str) -> str:
    """Return `text` with every credential and e-mail address we can recognise replaced."""
    text = fold_lookalikes(text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def contains_secret(text: str) -> bool:
    return mask_secrets(text) != fold_lookalikes(text)


# ---------------------------------------------------------------------------------------------
# URLs and connection strings (what `supportbot config`, the logs and store errors show)

_DSN_PASSWORD = re.compile(
    r"(?<![\w-])(?P<head>[\w-]*password[ \t]*+=[ \t]*+)(?P<pw>'(?:[^'\\]|\\.)*+'?|[^\s']\S*+|)",
    re.IGNORECASE,
)


def _split_userinfo(url: str) -> tuple[str, str, str | None, str] | None:
    """(scheme + "://", user, password or None, rest after "@"), or None when there is no userinfo.

    Works on the raw text and splits at the LAST "@", so a malformed URL (a password holding "#",
    "/" or "@") is over-masked rather than leaked.
    """
    head, sep, rest = url.partition("://")
    if not sep:  # no scheme (or "scheme:" without "//"): treat it all as authority
        head, rest = "", url
    if "@" not in rest:
        return None
    userinfo, _, after = rest.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return head + sep, user, (password if colon else None), after


def password_of(url: str) -> str | None:
    """The password in a URL's userinfo, raw (percent-encoded as written), or None."""
    pieces = _split_userinfo(url)
    return pieces[2] if pieces is not None else None


def _mask_query(url: str) -> str:
    """Every query parameter whose (percent-decoded) name holds "password" gets `***` as its value."""
    base, question, query = url.partition("?")
    if not question:
        return url
    query, hash_sign, fragment = query.partition("#")
    params = []
    for param in query.split("&"):
        name, equals, _value = param.partition("=")
        if equals and "password" in unquote(name).lower():
            param = f"{name}={URL_MASK}"
        params.append(param)
    return f"{base}?{'&'.join(params)}{hash_sign}{fragment}"


def mask_url(url: str) -> str:
    """`url` with every password replaced by `***`, for logs, errors and `supportbot config`. Never raises.

    Covers what libpq accepts: `user:password@host` (the password raw, percent-encoded or holding a
    raw "@"), `?password=` and `&password=` after other parameters (names percent-encoded too, and
    `sslpassword`), and key=value connection strings (`host=db password='a b'`).
    """
    if "://" not in url and "=" in url and "@" not in url:
        return _DSN_PASSWORD.sub(lambda m: m.group("head") + URL_MASK, url)
    pieces = _split_userinfo(url)
    if pieces is not None:
        head, user, password, after = pieces
        if password is not None:
            url = f"{head}{user}:{URL_MASK}@{after}"
    return _mask_query(url)

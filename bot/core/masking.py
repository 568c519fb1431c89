"""Mask secrets people paste along with their errors, before anything is stored, logged or echoed.

Each rule keeps a short, recognisable prefix ("sk-ant-…") so support staff can still tell which kind
of credential leaked and advise rotating it, while the secret itself never leaves the process.
"""

from __future__ import annotations

import re

MASK = "[masked]"

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Private key blocks first: they span lines.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
     "-----PRIVATE KEY " + MASK + "-----"),
    (re.compile(r"\bsk-ant-[A-Za-z0-9_-]{2,}(?:-[A-Za-z0-9_-]+)*"), "sk-ant-" + MASK),
    (re.compile(r"\bsk-(?:proj-|svcacct-|or-v1-)?[A-Za-z0-9_-]{16,}"), "sk-" + MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"), "xox-" + MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"), "xapp-" + MASK),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), "gh_" + MASK),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), "github_pat_" + MASK),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}"), "glpat-" + MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), "AIza" + MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "AKIA" + MASK),
    (re.compile(r"\bhf_[A-Za-z0-9]{20,}"), "hf_" + MASK),
    (re.compile(r"\bnpm_[A-Za-z0-9]{30,}"), "npm_" + MASK),
    # JSON web tokens (OAuth access tokens are often JWTs).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "jwt-" + MASK),
    # Discord bot tokens: three dot-separated base64 parts.
    (re.compile(r"\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b"), "discord-token-" + MASK),
    # Authorization headers and bearer tokens, whatever the token looks like.
    (re.compile(r"(?i)\b(authorization\s*[:=]\s*[\"']?(?:bearer|basic|token)?\s*)[^\s\"',;]+"), r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + MASK),
    (re.compile(r"(?i)\b(x-api-key\s*[:=]\s*[\"']?)[^\s\"',;]+"), r"\1" + MASK),
    # key=value and "key": "value" forms for secret-looking names.
    (re.compile(
        r"(?i)([\"']?\b[\w-]*(?:api[_-]?key|secret|password|passwd|pwd|token|access[_-]?key)[\w-]*[\"']?"
        r"\s*[:=]\s*[\"']?)(?!\[masked\])([^\s\"',;}]{4,})"
    ), r"\1" + MASK),
    # Passwords in URLs: scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(@)", re.IGNORECASE), r"\1" + MASK + r"\2"),
    # E-mail addresses: personal data, not needed to recognise an error.
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.IGNORECASE), "[email]"),
)


def mask_secrets(text: str) -> str:
    """Return `text` with every credential and e-mail address we can recognise replaced."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def contains_secret(text: str) -> bool:
    return mask_secrets(text) != text

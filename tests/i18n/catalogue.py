"""Reading gettext catalogues and finding the user-facing text a template leaves untranslated.

Pure helpers for tests/i18n: a small .po reader (the standard library has none) and a template scanner built on
Django's own template lexer. The scanner drops what is translated ({% translate %}, {% blocktranslate %} blocks),
comments, variables and other tags, then reads what is left as HTML: every text node and every user-facing attribute
(title, placeholder, aria-label, alt, a button's value) that still holds a word outside the allow-list is reported.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import Lexer, TokenType

#: Words that stay as they are in every language: Istio and Kubernetes terms (as Kiali keeps them), formats,
#: protocols, units and labels that are code.
ALLOWED_WORDS = frozenset(
    [
        "mesh-ui",
        "VirtualService",
        "DestinationRule",
        "subset",
        "subsets",
        "namespace",
        "namespaces",
        "workload",
        "workloads",
        "service",
        "services",
        "mTLS",
        "istio-proxy",
        "istio-injection",
        "YAML",
        "JSON",
        "PNG",
        "SVG",
        "HTTP",
        "gRPC",
        "TCP",
        "UTC",
        "API",
        "ms",
        "s",
        "m",
        "h",
        "d",
        "Istio",
        "Kubernetes",
        "Bookinfo",
        "15m",
        "1h",
        "6h",
        "1d",
        "GW",
        "SE",
        "SC",
        "rt",
        "rps",
        "error",
        "label",
        "app",
        "version",
        "node",
        "healthy",
        "mtls",
        "idle",
        "AND",
        "OR",
    ]
)

#: Whole texts that are syntax, not prose.
ALLOWED_TEXTS = frozenset({"key=value"})
#: Blocks that hold markup machinery (class lists, links to style sheets), not text.
MACHINERY_BLOCKS = frozenset({"bodyclass", "extrastyle", "extrahead", "head", "scripts"})
#: Elements whose text is code or machinery, not prose.
SKIPPED_ELEMENTS = frozenset({"code", "pre", "script", "style"})
#: Attributes a user reads (or hears, from a screen reader).
TEXT_ATTRIBUTES = frozenset({"title", "placeholder", "aria-label", "alt"})


@dataclass
class PoEntry:
    msgid: str
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


def read_po(path: Path) -> list[PoEntry]:
    """The entries of a .po file (the header, msgid "", included)."""
    entries: list[PoEntry] = []
    fields: dict[str, str] = {}
    flags: set[str] = set()
    key = ""

    def flush() -> None:
        nonlocal fields, flags
        if "msgid" in fields:
            strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
            entries.append(PoEntry(fields["msgid"], fields.get("msgid_plural"), strs, flags))
        fields, flags = {}, set()

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line)
        if match:
            if match.group(1) in ("msgid", "msgctxt") and "msgid" in fields:
                flush()
            key = match.group(1)
            fields[key] = ast.literal_eval(match.group(2))
        else:
            fields[key] += ast.literal_eval(line)
    flush()
    return entries


def flatten(source: str) -> tuple[str, list[str]]:
    """The template's markup without what is translated, tags, variables and comments; and its translate msgids.

    Variables become an empty string: ``{{ label }} graph`` leaves " graph", which is reported. In a template that
    extends another, only the text inside its blocks is rendered, so only that is kept.
    """
    out: list[str] = []
    msgids: list[str] = []
    skip_until = ""
    block: list[str] = []
    extends = source.lstrip().startswith("{% extends")
    depth = 0
    for token in Lexer(source).tokenize():
        if skip_until:
            if token.token_type is TokenType.BLOCK and token.contents.split()[0] == skip_until:
                if skip_until == "endblocktranslate":
                    msgids.append(_block_msgid(block))
                skip_until, block = "", []
            else:
                block.append(_as_msgid_part(token))
            continue
        if token.token_type is TokenType.TEXT:
            if depth or not extends:
                out.append(token.contents)
        elif token.token_type is TokenType.BLOCK:
            words = token.contents.split()
            if words[0] == "block":
                depth += 1
                if words[1] in MACHINERY_BLOCKS:
                    skip_until = "endblock"
                    depth -= 1
            elif words[0] == "endblock":
                depth -= 1
            elif words[0] in ("translate", "trans") and len(words) > 1 and words[1][0] in "\"'":
                # makemessages marks every template msgid python-format: a literal % is written %%.
                msgids.append(_literal(token.contents.split(None, 1)[1]).replace("%", "%%"))
            elif words[0] in ("blocktranslate", "blocktrans"):
                skip_until = "endblocktranslate" if words[0] == "blocktranslate" else "endblocktrans"
                block = ["trimmed"] if "trimmed" in words else []
            elif words[0] == "comment":
                skip_until = "endcomment"
    return "".join(out), msgids


def _literal(rest: str) -> str:
    quote = rest[0]
    return rest[1 : rest.index(quote, 1)]


def _as_msgid_part(token: object) -> str:
    contents: str = getattr(token, "contents", "")
    if getattr(token, "token_type", None) is TokenType.VAR:
        return f"%({contents.strip()})s"
    if getattr(token, "token_type", None) is TokenType.BLOCK:
        return "\0plural\0" if contents.strip() == "plural" else ""
    return contents.replace("%", "%%")


def _block_msgid(parts: list[str]) -> str:
    """The msgid gettext extracts from a blocktranslate body (the singular, when it has a plural)."""
    trimmed = bool(parts) and parts[0] == "trimmed"
    text = "".join(parts[1:] if trimmed else parts).split("\0plural\0")[0]
    if trimmed:
        text = " ".join(line.strip() for line in text.strip().splitlines())
    return text


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_ELEMENTS:
            self.skipping.append(tag)
        values = dict(attrs)
        for name, value in attrs:
            shown_value = name == "value" and tag == "input" and values.get("type") in ("submit", "button")
            if value and (name in TEXT_ATTRIBUTES or shown_value):
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.found.append(data)


def untranslated_text(source: str) -> list[str]:
    """The pieces of user-facing text of a template that hold a word outside :data:`ALLOWED_WORDS`."""
    markup, _ = flatten(source)
    finder = _TextFinder()
    finder.feed(markup)
    finder.close()
    return [
        text.strip()
        for text in finder.found
        if text.strip() not in ALLOWED_TEXTS and any(w not in ALLOWED_WORDS for w in _words(text))
    ]


def _words(text: str) -> list[str]:
    return [w.strip("-!") for w in re.findall(r"[!A-Za-z][A-Za-z0-9_.-]*", text) if re.search(r"[A-Za-z]", w)]

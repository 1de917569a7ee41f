"""Every template string is translated, and the Simplified Chinese catalogues are complete and consistent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.i18n.catalogue import flatten, read_po, untranslated_text

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
LOCALE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
#: Templates not yet wrapped in {% translate %}: none. A template added here is skipped by the untranslated check.
NOT_YET_TRANSLATED: frozenset[str] = frozenset()
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%\(\w+\)\.\d+f")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT / "templates"))


@pytest.mark.parametrize("template", TEMPLATES, ids=_name)
def test_template_leaves_no_user_facing_text_untranslated(template: Path) -> None:
    if _name(template) in NOT_YET_TRANSLATED:
        pytest.skip("listed in NOT_YET_TRANSLATED")
    assert untranslated_text(template.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("template", TEMPLATES, ids=_name)
def test_template_strings_are_in_the_catalogue(template: Path) -> None:
    """A wrapped string missing from django.po (makemessages not run) would show in English."""
    msgids = {entry.msgid for entry in read_po(LOCALE / "django.po")}
    _, used = flatten(template.read_text(encoding="utf-8"))
    assert [msgid for msgid in used if msgid not in msgids] == []


def test_the_scanner_finds_untranslated_text_and_accepts_translated_text() -> None:
    source = """{% load i18n %}<h1>Hello {{ name }}</h1><p title="Hover text">{% translate "Fine" %}</p>
    <input type="submit" value="Send"><button name="step" value="apply">{% translate "Apply" %}</button>
    <p>{% blocktranslate with n=count %}{{ n }} things{% endblocktranslate %} · VirtualService <code>raw code</code></p>
    <label>{{ label }} graph</label>"""
    assert untranslated_text(source) == ["Hello", "Hover text", "Send", "graph"]
    assert flatten(source)[1] == ["Fine", "Apply", "%(n)s things"]


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_message_has_a_chinese_translation(domain: str) -> None:
    entries = read_po(LOCALE / f"{domain}.po")
    header = [e for e in entries if e.msgid == ""]
    assert header and "fuzzy" not in header[0].flags and "Language: zh_Hans" in header[0].msgstrs[0]
    messages = [e for e in entries if e.msgid]
    assert messages
    assert [e.msgid for e in messages if "fuzzy" in e.flags] == []
    assert [e.msgid for e in messages if not e.msgstrs or not all(s.strip() for s in e.msgstrs)] == []


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_translations_keep_the_placeholders(domain: str) -> None:
    """A msgstr that drops or renames a %(name)s would fail at render time (or lose the value)."""
    wrong = [
        e.msgid
        for e in read_po(LOCALE / f"{domain}.po")
        if e.msgid and any(sorted(PLACEHOLDER.findall(s)) != sorted(PLACEHOLDER.findall(e.msgid)) for s in e.msgstrs)
    ]
    assert wrong == []


def test_chinese_text_is_chinese() -> None:
    """Most messages are prose; an English msgstr copied over would pass the emptiness check but not this."""
    messages = [e for e in read_po(LOCALE / "django.po") if e.msgid]
    han = [e for e in messages if re.search(r"[\u4e00-\u9fff]", e.msgstrs[0])]
    assert len(han) / len(messages) > 0.9

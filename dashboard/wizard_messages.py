"""The wizards' input checks in the reader's language.

:mod:`istio_config.wizards.inputs` is pure (no Django) and writes its messages in English; the wizard forms pass
each one through :func:`translate_input_error`, which matches it against the patterns below and fills the
translated text with the same values. A message no pattern knows stays English.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

NO_VERSION = "none: its workloads have no version label"

#: (pattern of the English message, its translatable text with the pattern's named groups as placeholders).
_PATTERNS: list[tuple[re.Pattern[str], StrOrPromise]] = [
    (re.compile(p, re.S), text)
    for p, text in [
        (
            r"(?P<subset>.+) is not a subset of (?P<service>.+) \(subsets: (?P<known>.*)\)",
            _("%(subset)s is not a subset of %(service)s (subsets: %(known)s)"),
        ),
        (r"choose a subset \(subsets: (?P<known>.*)\)", _("choose a subset (subsets: %(known)s)")),
        (r"(?P<value>.+) is not a percentage \(0 to 100\)", _("%(value)s is not a percentage (0 to 100)")),
        (
            r"(?P<value>.+) is not a duration such as 7s, 0.5s or 100ms",
            _("%(value)s is not a duration such as 7s, 0.5s or 100ms"),
        ),
        (r"a value to compare with is required", _("a value to compare with is required")),
        (r"a URI match has no name", _("a URI match has no name")),
        (
            r"a header name \(letters, digits, -, _\) is required",
            _("a header name (letters, digits, -, _) is required"),
        ),
        (
            r"a query parameter name \(letters, digits, -, _\) is required",
            _("a query parameter name (letters, digits, -, _) is required"),
        ),
        (
            r"a query parameter is compared exactly or by regex, not by prefix",
            _("a query parameter is compared exactly or by regex, not by prefix"),
        ),
        (r"not a regular expression: (?P<error>.*)", _("not a regular expression: %(error)s")),
        (
            r"mirroring to the subset the traffic goes to copies every request to itself",
            _("mirroring to the subset the traffic goes to copies every request to itself"),
        ),
        (
            r"a rule needs a condition \(a header, the URI or a query parameter\)",
            _("a rule needs a condition (a header, the URI or a query parameter)"),
        ),
        (
            r"the (?P<field>\S+) (?P<name>.*) is compared twice in one rule",
            _("the %(field)s %(name)s is compared twice in one rule"),
        ),
        (r"(?P<value>.+) is not a weight \(0 to 100\)", _("%(value)s is not a weight (0 to 100)")),
        (r"the weights sum to (?P<total>.+), not 100", _("the weights sum to %(total)s, not 100")),
        (
            r"choose a delay, an abort or both \(a percentage above 0\)",
            _("choose a delay, an abort or both (a percentage above 0)"),
        ),
        (
            r"(?P<value>.+) is not an HTTP status \(200 to 599\)",
            _("%(value)s is not an HTTP status (200 to 599)"),
        ),
        (r"choose a timeout, retries or both", _("choose a timeout, retries or both")),
        (r"attempts cannot be negative", _("attempts cannot be negative")),
        (
            r"a per-try timeout or retry conditions need attempts above 0",
            _("a per-try timeout or retry conditions need attempts above 0"),
        ),
        (
            r"a comma-separated list such as 5xx,reset,connect-failure",
            _("a comma-separated list such as 5xx,reset,connect-failure"),
        ),
        (
            r"at least 1 \(leave it empty for no limit\)",
            _("at least 1 (leave it empty for no limit)"),
        ),
        (
            r"outlier detection needs the number of errors that ejects a host",
            _("outlier detection needs the number of errors that ejects a host"),
        ),
        (r"set a connection limit or outlier detection", _("set a connection limit or outlier detection")),
    ]
]


def translate_input_error(message: str) -> str:
    """``message`` (one of the input checks') in the active language; unchanged when no pattern matches it."""
    for pattern, text in _PATTERNS:
        found = pattern.fullmatch(message)
        if found is not None:
            values = found.groupdict()
            if values.get("known") == NO_VERSION:
                values["known"] = gettext("none: its workloads have no version label")
            return str(text) % values if values else str(text)
    return message


_HAND_WRITTEN = re.compile(r"(?P<count>\d+) hand-written (?P<kind>\w+)s route (?P<service>\S+) \((?P<names>.*)\)")
_REFUSAL_END = ": a wizard would not know which to replace. Edit or delete them by hand first."


def translate_refusal(refusal: str) -> str:
    """A wizard's refusal (:func:`istio_config.wizard_writes.prepare_wizard`: several hand-written objects route the
    service) in the active language; unchanged when it is not of that form."""
    if not refusal.endswith(_REFUSAL_END):
        return refusal
    parts = [_HAND_WRITTEN.fullmatch(part) for part in refusal[: -len(_REFUSAL_END)].split("; ")]
    if not all(parts):
        return refusal
    text = gettext("%(count)s hand-written %(kind)ss route %(service)s (%(names)s)")
    found = gettext("; ").join(text % part.groupdict() for part in parts if part is not None)
    return gettext("%(found)s: a wizard would not know which to replace. Edit or delete them by hand first.") % {
        "found": found
    }

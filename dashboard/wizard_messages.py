"""The wizards' messages in the reader's language.

The pure checks (:mod:`istio_config.wizards.inputs`) and :func:`istio_config.wizard_writes.prepare_wizard` say what
is wrong as :class:`~istio_config.wizards.messages.Message` values: an English template and its values. The template
is the msgid: :func:`translate_message` looks it up in the catalogue, then fills it. :data:`MARKED` repeats every
template as a literal so that ``makemessages`` (which reads only literals in gettext calls) keeps them in
``django.po``; ``tests/i18n/test_wizard_messages.py`` checks it lists exactly
:data:`istio_config.wizards.messages.TEMPLATES`.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from istio_config.wizards.messages import LIST_SEPARATOR, Message, Param

#: Every template of :mod:`istio_config.wizards.messages`, marked for the catalogue.
MARKED: frozenset[str] = frozenset(
    {
        gettext_noop("%(subset)s is not a subset of %(service)s (subsets: %(known)s)"),
        gettext_noop("choose a subset (subsets: %(known)s)"),
        gettext_noop("none: its workloads have no version label"),
        gettext_noop("%(value)s is not a percentage (0 to 100)"),
        gettext_noop("%(value)s is not a duration such as 7s, 0.5s or 100ms"),
        gettext_noop("(empty)"),
        gettext_noop("a value to compare with is required"),
        gettext_noop("a URI match has no name"),
        gettext_noop("a header name (letters, digits, -, _) is required"),
        gettext_noop("a query parameter name (letters, digits, -, _) is required"),
        gettext_noop("a query parameter is compared exactly or by regex, not by prefix"),
        gettext_noop("not a regular expression: %(error)s"),
        gettext_noop("mirroring to the subset the traffic goes to copies every request to itself"),
        gettext_noop("a rule needs a condition (a header, the URI or a query parameter)"),
        gettext_noop("the %(field)s %(name)s is compared twice in one rule"),
        gettext_noop("%(value)s is not a weight (0 to 100)"),
        gettext_noop("the weights sum to %(total)s, not 100"),
        gettext_noop("choose a delay, an abort or both (a percentage above 0)"),
        gettext_noop("%(value)s is not an HTTP status (200 to 599)"),
        gettext_noop("choose a timeout, retries or both"),
        gettext_noop("attempts cannot be negative"),
        gettext_noop("a per-try timeout or retry conditions need attempts above 0"),
        gettext_noop("a comma-separated list such as 5xx,reset,connect-failure"),
        gettext_noop("at least 1 (leave it empty for no limit)"),
        gettext_noop("outlier detection needs the number of errors that ejects a host"),
        gettext_noop("set a connection limit or outlier detection"),
        gettext_noop("; "),
        gettext_noop("%(found)s: a wizard would not know which to replace. Edit or delete them by hand first."),
        gettext_noop("%(count)s hand-written %(kind)ss route %(service)s (%(names)s)"),
    }
)


def translate_message(message: Message) -> str:
    """``message`` in the active language: its template translated, then filled (nested messages translated too)."""
    return gettext(message.template) % {name: _translate_param(value) for name, value in message.params.items()}


def _translate_param(value: Param) -> str:
    if isinstance(value, Message):
        return translate_message(value)
    if isinstance(value, tuple):
        return gettext(LIST_SEPARATOR).join(translate_message(item) for item in value)
    return value

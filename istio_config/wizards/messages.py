"""What the wizards' checks and refusals say, as data: a :class:`Message` is an English template and its values.

Plain data, no Django: :func:`str` gives the English text, and the dashboard translates the template itself (it is
the msgid: :mod:`dashboard.wizard_messages` marks every template below for the catalogue) before filling it. A check
only ever emits one of :data:`TEMPLATES`, so a test can ask the catalogue for each one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Message:
    """``template`` (printf style, ``%(name)s`` placeholders) filled with ``params``.

    A value that is itself a :class:`Message` is a phrase of ours to translate with it (a placeholder's text such as
    :data:`NO_VERSION_SUBSETS`), a tuple of them a list joined by :data:`LIST_SEPARATOR`; a plain string is data from
    the input or the cluster and stays as it is.
    """

    template: str
    params: Mapping[str, Param] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return self.template % {name: _english(value) for name, value in self.params.items()}


Param = str | Message | tuple[Message, ...]


def _english(value: Param) -> str:
    if isinstance(value, tuple):
        return LIST_SEPARATOR.join(str(item) for item in value)
    return str(value)


# The input checks (:mod:`istio_config.wizards.inputs`).
NOT_A_SUBSET = "%(subset)s is not a subset of %(service)s (subsets: %(known)s)"
CHOOSE_A_SUBSET = "choose a subset (subsets: %(known)s)"
NO_VERSION_SUBSETS = "none: its workloads have no version label"
NOT_A_PERCENTAGE = "%(value)s is not a percentage (0 to 100)"
NOT_A_DURATION = "%(value)s is not a duration such as 7s, 0.5s or 100ms"
EMPTY_VALUE = "(empty)"
VALUE_REQUIRED = "a value to compare with is required"
URI_HAS_NO_NAME = "a URI match has no name"
HEADER_NAME_REQUIRED = "a header name (letters, digits, -, _) is required"
QUERY_NAME_REQUIRED = "a query parameter name (letters, digits, -, _) is required"
QUERY_BY_PREFIX = "a query parameter is compared exactly or by regex, not by prefix"
NOT_A_REGEX = "not a regular expression: %(error)s"
MIRROR_TO_ITSELF = "mirroring to the subset the traffic goes to copies every request to itself"
RULE_WITHOUT_CONDITION = "a rule needs a condition (a header, the URI or a query parameter)"
COMPARED_TWICE = "the %(field)s %(name)s is compared twice in one rule"
NOT_A_WEIGHT = "%(value)s is not a weight (0 to 100)"
WEIGHTS_SUM = "the weights sum to %(total)s, not 100"
NO_FAULT = "choose a delay, an abort or both (a percentage above 0)"
NOT_AN_HTTP_STATUS = "%(value)s is not an HTTP status (200 to 599)"
NO_TIMEOUT_OR_RETRIES = "choose a timeout, retries or both"
NEGATIVE_ATTEMPTS = "attempts cannot be negative"
RETRIES_WITHOUT_ATTEMPTS = "a per-try timeout or retry conditions need attempts above 0"
NOT_A_RETRY_LIST = "a comma-separated list such as 5xx,reset,connect-failure"
AT_LEAST_ONE = "at least 1 (leave it empty for no limit)"
OUTLIER_WITHOUT_ERRORS = "outlier detection needs the number of errors that ejects a host"
NO_CIRCUIT_BREAKER = "set a connection limit or outlier detection"

LIST_SEPARATOR = "; "

# The refusal of :func:`istio_config.wizard_writes.prepare_wizard`: its ``found`` is a tuple of HAND_WRITTEN_ROUTES.
REFUSED_HAND_WRITTEN = "%(found)s: a wizard would not know which to replace. Edit or delete them by hand first."
HAND_WRITTEN_ROUTES = "%(count)s hand-written %(kind)ss route %(service)s (%(names)s)"

#: Every template a wizard check emits (placeholder texts included).
TEMPLATES: tuple[str, ...] = (
    NOT_A_SUBSET,
    CHOOSE_A_SUBSET,
    NO_VERSION_SUBSETS,
    NOT_A_PERCENTAGE,
    NOT_A_DURATION,
    EMPTY_VALUE,
    VALUE_REQUIRED,
    URI_HAS_NO_NAME,
    HEADER_NAME_REQUIRED,
    QUERY_NAME_REQUIRED,
    QUERY_BY_PREFIX,
    NOT_A_REGEX,
    MIRROR_TO_ITSELF,
    RULE_WITHOUT_CONDITION,
    COMPARED_TWICE,
    NOT_A_WEIGHT,
    WEIGHTS_SUM,
    NO_FAULT,
    NOT_AN_HTTP_STATUS,
    NO_TIMEOUT_OR_RETRIES,
    NEGATIVE_ATTEMPTS,
    RETRIES_WITHOUT_ATTEMPTS,
    NOT_A_RETRY_LIST,
    AT_LEAST_ONE,
    OUTLIER_WITHOUT_ERRORS,
    NO_CIRCUIT_BREAKER,
    LIST_SEPARATOR,
    REFUSED_HAND_WRITTEN,
    HAND_WRITTEN_ROUTES,
)

"""Health states as the pages show them: the stored values stay English (filters, data attributes, the API); the
labels are translated where a template shows one (``{% translate status %}``). Listing them here puts them in the
message catalogue, which a template's variable never does.
"""

from django.utils.translation import gettext_noop

HEALTH_LABELS = (
    gettext_noop("Healthy"),
    gettext_noop("Degraded"),
    gettext_noop("Failure"),
    gettext_noop("Not Ready"),
    gettext_noop("Idle"),
    gettext_noop("No health information"),
)

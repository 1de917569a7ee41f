"""``{% live_refresh %}``: the one way a page keeps its live parts fresh.

The tag writes htmx attributes on the element that holds a page's live fragment: every ``LIVE_REFRESH_SECONDS``
while the tab is visible, htmx re-requests the current URL (filters included, since they are pushed to it) and
swaps the fragment in; a hidden tab does not poll, and coming back refreshes at once. The clock is
``static/dashboard/live.js``, which sends the element the ``live-refresh`` event: an htmx trigger filter would need
``eval``, which the Content-Security-Policy forbids. The views answer an htmx request with the fragment only
(``dashboard.common.is_partial``).
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

LIVE_REFRESH_SECONDS = 10


@register.simple_tag
def live_refresh() -> SafeString:
    """htmx attributes that refresh the element's content from the current URL while the tab is visible."""
    return format_html(
        'hx-get="" hx-trigger="live-refresh" hx-swap="innerHTML" data-live-refresh="{}"', LIVE_REFRESH_SECONDS
    )

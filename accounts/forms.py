"""Forms of the account pages: a new API token's name and lifetime."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: Lifetimes offered for a new token, in days ("" for no expiry).
EXPIRY_CHOICES = [
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("365", _("1 year")),
    ("7", _("7 days")),
    ("", _("Never")),
]


class TokenCreateForm(forms.Form):
    """What the user chooses for a new token: a name saying what it is for and when it stops working."""

    name = forms.CharField(max_length=100, help_text=_("What the token is for, e.g. 'CI pipeline'."))
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, initial="30", label=_("Expires in"))

    def expires_at(self, now: datetime | None = None) -> datetime | None:
        days = self.cleaned_data["expires_in"]
        if not days:
            return None
        return (now or timezone.now()) + timedelta(days=int(days))

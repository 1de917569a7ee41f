"""Form fields of the admin's Istio forms: text areas that hold a list, a label map, a string match, a map of
matches or a YAML mapping, each shown as text and cleaned into the value the spec holds."""

from __future__ import annotations

from typing import Any

import yaml
from django import forms
from django.core.exceptions import ValidationError

from istio_config import admin_spec
from istio_config.yaml_lines import dump_yaml


def optional_int(**kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(required=False, **kwargs)


def optional_text(**kwargs: Any) -> forms.CharField:
    return forms.CharField(required=False, **kwargs)


class _TextValueField(forms.CharField):
    """A text area whose cleaned value is structured; ``to_text`` shows a value, ``parse`` reads the text back."""

    rows = 2

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": self.rows, "cols": 60, "spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_text(self, value: Any) -> str:
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str) or value is None:
            return value
        return self.to_text(value)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value) or ""
        if not text.strip():
            return self.parse("")
        try:
            return self.parse(text)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            before = self.to_python(initial) if initial is None or isinstance(initial, str) else initial
            return bool(self.to_python(data) != before)
        except ValidationError:
            return True


class StringListField(_TextValueField):
    """One value per line (hosts, gateways)."""

    def to_text(self, value: Any) -> str:
        return admin_spec.string_list_text(value)

    def parse(self, text: str) -> Any:
        return admin_spec.parse_string_list(text)


class StringMapField(_TextValueField):
    """``key=value`` per line (a subset's labels)."""

    def to_text(self, value: Any) -> str:
        return admin_spec.string_map_text(value)

    def parse(self, text: str) -> Any:
        return admin_spec.parse_string_map(text)


class StringMatchField(forms.CharField):
    """``prefix /reviews``: how a URI matches and the value."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 40, "placeholder": "prefix /reviews"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return admin_spec.string_match_text(value) if isinstance(value, dict) else value

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value) or ""
        if not text.strip():
            return None
        try:
            return admin_spec.parse_string_match(text)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return bool(self.to_python(data) != (initial or None))
        except ValidationError:
            return True


class MatchMapField(_TextValueField):
    """``name exact value`` per line (headers, query parameters of a match)."""

    def to_text(self, value: Any) -> str:
        return admin_spec.match_map_text(value)

    def parse(self, text: str) -> Any:
        return admin_spec.parse_match_map(text)


class YamlMappingField(_TextValueField):
    """A YAML mapping (what the structured fields do not show); blank is an empty mapping."""

    rows = 6

    def to_text(self, value: Any) -> str:
        if not value:
            return ""
        return dump_yaml(value)

    def parse(self, text: str) -> Any:
        if not text.strip():
            return {}
        try:
            found = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ValueError(f"this is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from exc
        if found is None:
            return {}
        if not isinstance(found, dict):
            raise ValueError("write a YAML mapping (key: value)")
        return found

"""A small, strict parser of the Prometheus text exposition format 0.0.4 (for tests only).

It rejects anything it does not understand: samples before their ``# TYPE``, sample names
that do not belong to the current family, malformed or duplicate label sets, bad escapes,
non-numeric values and duplicate series.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SUFFIXES = {
    "counter": ("",),
    "gauge": ("",),
    "untyped": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
}


class ExpositionError(ValueError):
    """The text is not valid exposition format."""


@dataclass
class Family:
    name: str
    type: str = "untyped"
    help: str | None = None
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)


def _parse_labels(text: str, line_number: int) -> tuple[dict[str, str], int]:
    """Parse ``{a="b",...}`` starting at text[0] == '{'; returns labels and the index after '}'."""
    labels: dict[str, str] = {}
    position = 1
    while True:
        if text[position] == "}":
            return labels, position + 1
        match = _LABEL_NAME.match(text, position)
        if not match:
            raise ExpositionError(f"line {line_number}: bad label name at {text[position : position + 20]!r}")
        name = match.group(0)
        position = match.end()
        if text[position : position + 2] != '="':
            raise ExpositionError(f'line {line_number}: expected =" after {name}')
        position += 2
        value_chars: list[str] = []
        while True:
            char = text[position]
            if char == "\\":
                escaped = text[position + 1]
                if escaped not in '\\"n':
                    raise ExpositionError(f"line {line_number}: bad escape \\{escaped}")
                value_chars.append("\n" if escaped == "n" else escaped)
                position += 2
            elif char == '"':
                position += 1
                break
            elif char == "\n":
                raise ExpositionError(f"line {line_number}: raw newline in label value")
            else:
                value_chars.append(char)
                position += 1
        if name in labels:
            raise ExpositionError(f"line {line_number}: duplicate label {name}")
        labels[name] = "".join(value_chars)
        if text[position] == ",":
            position += 1
        elif text[position] != "}":
            raise ExpositionError(f"line {line_number}: expected , or }} after label {name}")


def _parse_value(text: str, line_number: int) -> float:
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ExpositionError(f"line {line_number}: bad value {text!r}") from None


def parse_exposition(text: str) -> dict[str, Family]:
    """Families by name, in order of appearance."""
    if text and not text.endswith("\n"):
        raise ExpositionError("exposition must end with a line feed")
    families: dict[str, Family] = {}
    current: Family | None = None
    seen_series: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for line_number, line in enumerate(text.split("\n")[:-1], start=1):
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not _METRIC_NAME.fullmatch(name):
                    raise ExpositionError(f"line {line_number}: bad metric name {name!r}")
                family = families.setdefault(name, Family(name))
                if parts[1] == "TYPE":
                    if len(parts) != 4 or parts[3] not in _SUFFIXES:
                        raise ExpositionError(f"line {line_number}: bad TYPE line")
                    if family.samples:
                        raise ExpositionError(f"line {line_number}: TYPE after samples of {name}")
                    family.type = parts[3]
                else:
                    family.help = parts[3] if len(parts) == 4 else ""
                current = family
            continue
        match = _METRIC_NAME.match(line)
        if not match or current is None:
            raise ExpositionError(f"line {line_number}: sample without a family: {line[:60]!r}")
        sample_name = match.group(0)
        if sample_name not in {current.name + suffix for suffix in _SUFFIXES[current.type]}:
            raise ExpositionError(f"line {line_number}: {sample_name} does not belong to {current.name}")
        rest = line[match.end() :]
        labels: dict[str, str] = {}
        if rest.startswith("{"):
            labels, end = _parse_labels(rest, line_number)
            rest = rest[end:]
        if not rest.startswith(" ") or len(rest.split()) not in (1, 2):
            raise ExpositionError(f"line {line_number}: expected ' value [timestamp]'")
        value = _parse_value(rest.split()[0], line_number)
        series = (sample_name, tuple(sorted(labels.items())))
        if series in seen_series:
            raise ExpositionError(f"line {line_number}: duplicate series {sample_name}{labels}")
        seen_series.add(series)
        current.samples.append((sample_name, labels, value))
    return families

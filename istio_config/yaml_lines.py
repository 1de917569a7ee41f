"""From a finding's JSON path to the line of a YAML document that holds that field: pure, no Django.

A finding names the offending field by a path such as ``spec.http[0].route[1].destination.subset`` (keys joined
by dots, list indexes in brackets; a key holding dots or brackets is written ``["app.kubernetes.io/name"]``).
``yaml_line_of`` walks PyYAML's node tree of the document, which keeps each node's position, to that field. A field
the document lacks (a missing ``labels``, say) pins to its nearest ancestor that is there, so every finding lands on
a line. JSON is YAML too, so the same walk finds lines in a posted JSON body.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

PathSegment = str | int
_SEGMENT = re.compile(r"""\[(\d+)\]|\[["']([^"']*)["']\]|\.?([^.\[\]]+)""")


class PathSyntaxError(ValueError):
    """A path that is not keys joined by dots with ``[index]`` or ``["key"]`` segments."""


def parse_path(path: str) -> list[PathSegment]:
    """``spec.http[0].route`` -> ``["spec", "http", 0, "route"]``."""
    segments: list[PathSegment] = []
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None or match.end() == position:
            raise PathSyntaxError(f"cannot read the path {path!r} at character {position}")
        index, quoted, key = match.groups()
        segments.append(int(index) if index is not None else (quoted if quoted is not None else key))
        position = match.end()
    return segments


def compose_yaml(yaml_text: str) -> yaml.Node | None:
    """The node tree of the first document of ``yaml_text``; None when it is empty or not YAML."""
    try:
        return yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def yaml_line_of(path: str, document: str | yaml.Node | None) -> int | None:
    """The 1-based line of ``document`` (YAML text or its composed node) where the field at ``path`` is written.

    A mapping key pins to the line of the key, a list item to the line where the item starts; a field that is not
    in the document pins to its nearest present ancestor (line 1 for the document itself), and so does a path that
    does not parse. None when the document is empty or not YAML.
    """
    node = compose_yaml(document) if isinstance(document, str) else document
    if node is None:
        return None
    line = node.start_mark.line + 1
    try:
        segments = parse_path(path)
    except PathSyntaxError:
        return line
    for segment in segments:
        found = _child(node, segment)
        if found is None:
            break
        line, node = found
    return line


def _child(node: yaml.Node, segment: PathSegment) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(segment, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == segment:
                return key.start_mark.line + 1, value
    if isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and 0 <= segment < len(node.value):
        item = node.value[segment]
        return item.start_mark.line + 1, item
    return None


try:  # libyaml's emitter when PyYAML has it: the sync may dump thousands of objects at once
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]


def _represent_str(dumper: Any, value: str) -> Any:
    """A string holding a line break as a literal block (``|``), one YAML line per line of the string.

    PyYAML's default quotes it and folds it over several lines, with an empty line per line break: kubectl's
    ``last-applied-configuration`` annotation (JSON and a final newline) came out as a quoted run of blank lines
    and a lone ``'``. Where a literal block cannot hold the string (trailing spaces, say) the emitter falls back.
    """
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


class ReadableDumper(_BaseDumper):
    """PyYAML's safe dumper with multi-line strings as literal blocks (see :func:`_represent_str`)."""


ReadableDumper.add_representer(str, _represent_str)


def dump_yaml(document: Any) -> str:
    """``document`` as block-style YAML, keys in their stored order (what the object pages, the editor, the admin's
    YAML fields and the history show); multi-line strings as literal blocks."""
    text: str = yaml.dump(
        document, Dumper=ReadableDumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
    return text

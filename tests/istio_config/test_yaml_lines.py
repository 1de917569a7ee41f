"""From a finding's JSON path to the line of the YAML (or JSON) text holding that field."""

from __future__ import annotations

import pytest
import yaml

from istio_config.yaml_lines import PathSyntaxError, dump_yaml, parse_path, yaml_line_of

ROUTES = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
  - route:
    - destination:
        host: reviews
        subset: v9
      weight: 100
"""


def test_parse_path_reads_keys_indexes_and_quoted_keys() -> None:
    assert parse_path("spec.http[0].route[12].destination") == ["spec", "http", 0, "route", 12, "destination"]
    assert parse_path('metadata.labels["app.kubernetes.io/name"]') == ["metadata", "labels", "app.kubernetes.io/name"]


def test_parse_path_refuses_what_is_not_a_path() -> None:
    with pytest.raises(PathSyntaxError):
        parse_path("spec[x-y]")


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("spec.hosts[0]", 7),
        ("spec.http[0].route[0].destination.subset", 16),
        ("spec.http[1].route[0].destination.subset", 20),
        ("spec.http[1].route[0].weight", 21),
        ("spec.http[1]", 17),
        ("spec.http[0].match[0]", 10),
        ("metadata.name", 4),
        ("", 1),
    ],
)
def test_a_path_pins_to_the_line_of_its_field(path: str, line: int) -> None:
    assert yaml_line_of(path, ROUTES) == line


def test_a_missing_field_pins_to_its_nearest_present_ancestor() -> None:
    assert yaml_line_of("spec.http[1].route[0].destination.port.number", ROUTES) == 18
    assert yaml_line_of("spec.http[7].route", ROUTES) == 8
    assert yaml_line_of("spec.tcp[0]", ROUTES) == 5


def test_json_text_gets_lines_too() -> None:
    text = (
        '{\n  "kind": "DestinationRule",\n  "spec": {\n    "host": "ratings",\n'
        '    "subsets": [\n      {"name": "v1"}\n    ]\n  }\n}\n'
    )
    assert yaml_line_of("spec.host", text) == 4
    assert yaml_line_of("spec.subsets[0].labels", text) == 6


def test_text_that_is_not_yaml_has_no_line_and_a_bad_path_pins_to_the_top() -> None:
    assert yaml_line_of("spec", "spec: [unclosed") is None
    assert yaml_line_of("spec", "") is None
    assert yaml_line_of("spec[x-y]", ROUTES) == 1


def test_the_dumped_yaml_keeps_key_order_and_lines_match() -> None:
    text = dump_yaml({"kind": "DestinationRule", "spec": {"host": "ratings", "subsets": [{"name": "v1"}]}})
    assert text.splitlines()[:3] == ["kind: DestinationRule", "spec:", "  host: ratings"]
    assert yaml_line_of("spec.subsets[0]", text) == 5


LAST_APPLIED = '{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"reviews"}}\n'


def test_a_multi_line_string_is_dumped_as_a_literal_block_that_reads_back_the_same():
    # kubectl's last-applied-configuration annotation: JSON and a final newline. PyYAML's default quoted style
    # folded it into a quoted run of blank lines and a lone quote in the editor and the history.
    document = {"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": LAST_APPLIED}}}
    text = dump_yaml(document)
    assert text.splitlines() == [
        "metadata:",
        "  annotations:",
        "    kubectl.kubernetes.io/last-applied-configuration: |",
        "      " + LAST_APPLIED.rstrip("\n"),
    ]
    assert yaml.safe_load(text) == document


def test_every_write_path_dumps_multi_line_strings_the_same_way():
    from istio_config.admin_fields import YamlMappingField
    from istio_config.write_input import config_yaml

    obj = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "r", "namespace": "b", "annotations": {"note": "one\ntwo\n"}},
        "spec": {},
    }
    assert "    note: |\n      one\n      two\n" in config_yaml(obj)
    assert YamlMappingField().to_text({"note": "one\ntwo\n"}) == "note: |\n  one\n  two\n"
    # A string a literal block cannot hold (a line ending in a space) is still quoted, and reads back the same.
    awkward = {"note": "trailing \nspace"}
    assert yaml.safe_load(dump_yaml(awkward)) == awkward

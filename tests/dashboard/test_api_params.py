"""The API's query serializers: values parsed as the docs say, errors named by parameter, no state shared between
requests (their fields are shallow copies of the declared ones)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import QueryDict

from topology.api_params import GraphDiffQuery, GraphQuery, SnapshotRangeQuery


def _parse(serializer_class, query: str):
    serializer = serializer_class(data=QueryDict(query))
    return serializer.is_valid(), serializer


def test_graph_query_parses_every_parameter():
    valid, serializer = _parse(
        GraphQuery, "graphType=workload&namespaces=a,,b&duration=5m&at=60&idleNodes=yes&boxBy=app&hide=healthy"
    )
    assert valid, serializer.errors
    data = serializer.validated_data
    assert data["graphType"] == "workload" and data["namespaces"] == ["a", "b"] and data["duration"] == 300
    assert data["at"] == datetime(1970, 1, 1, 0, 1, tzinfo=UTC)
    assert data["idleNodes"] is True and data["boxBy"] == ["app"] and callable(data["hide"])


def test_graph_query_defaults():
    valid, serializer = _parse(GraphQuery, "")
    assert valid
    data = serializer.validated_data
    assert data["graphType"] == "versionedApp" and data["idleNodes"] is False
    assert data["boxBy"] == ["cluster", "namespace", "app"] and "namespaces" not in data and "at" not in data


def test_errors_name_each_parameter():
    valid, serializer = _parse(GraphQuery, "graphType=x&duration=5x&at=soon&boxBy=pod&idleNodes=maybe")
    assert not valid
    assert set(serializer.errors) == {"graphType", "duration", "at", "boxBy", "idleNodes"}


def test_instances_share_no_state():
    first = GraphQuery(data=QueryDict("graphType=app"))
    second = GraphQuery(data=QueryDict("graphType=oops"))
    assert first.is_valid() and not second.is_valid()
    assert first.validated_data["graphType"] == "app"
    assert first.fields["graphType"] is not second.fields["graphType"]
    assert first.fields["graphType"].parent is first and second.fields["graphType"].parent is second
    assert GraphQuery._declared_fields["graphType"].field_name is None  # the declared field is never bound


def test_diff_takes_a_required_from_and_ranges_default_to_the_last_hour():
    valid, serializer = _parse(GraphDiffQuery, "to=120")
    assert not valid and set(serializer.errors) == {"from"}
    valid, serializer = _parse(SnapshotRangeQuery, "")
    assert valid
    since, until = serializer.validated_data["since"], serializer.validated_data["until"]
    assert (until - since).total_seconds() == 3600
    valid, serializer = _parse(SnapshotRangeQuery, "since=200&until=100")
    assert not valid and "since" in serializer.errors

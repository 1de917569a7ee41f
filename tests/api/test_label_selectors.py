"""The label selector parser: Kubernetes' syntax, its semantics, and clear refusals."""

from __future__ import annotations

import pytest

from api.label_selectors import LabelSelectorError, Requirement, parse_label_selector


def test_equality_inequality_and_existence():
    assert parse_label_selector("app=reviews, version!=v1,tier==web,canary,!legacy") == (
        Requirement("app", "=", ("reviews",)),
        Requirement("version", "!=", ("v1",)),
        Requirement("tier", "=", ("web",)),
        Requirement("canary", "exists"),
        Requirement("legacy", "!exists"),
    )


def test_set_requirements_keep_their_commas():
    assert parse_label_selector("env in (prod, staging),version notin (v1,v2),app") == (
        Requirement("env", "in", ("prod", "staging")),
        Requirement("version", "notin", ("v1", "v2")),
        Requirement("app", "exists"),
    )


def test_prefixed_keys_and_empty_values():
    assert parse_label_selector("app.kubernetes.io/name=reviews,team=") == (
        Requirement("app.kubernetes.io/name", "=", ("reviews",)),
        Requirement("team", "=", ("",)),
    )


def test_blank_selects_everything():
    assert parse_label_selector("") == () and parse_label_selector("   ") == ()


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("app=reviews,", "empty requirement"),
        ("app in ()", "empty"),
        ("app in (a,b", "'(' without ')'"),
        ("app)", "')' without '('"),
        ("replicas>2", "not supported"),
        ("-app=x", "label key '-app'"),
        ("app=-x", "label value '-x'"),
        ("Bad_Prefix/app=x", "prefix"),
        ("app=" + "x" * 64, "at most 63"),
        ("app = re views", "is not key"),
        ("a" * 5000, "at most 4096"),
    ],
)
def test_invalid_selectors_are_refused_with_the_reason(selector, message):
    with pytest.raises(LabelSelectorError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_label_selector(selector)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=reviews", {"app": "reviews"}, True),
        ("app=reviews", {}, False),
        ("version!=v1", {}, True),  # absent keys satisfy != and notin, as in Kubernetes
        ("version!=v1", {"version": "v1"}, False),
        ("env notin (a,b)", {}, True),
        ("env notin (a,b)", {"env": "a"}, False),
        ("env in (a,b)", {"env": "b"}, True),
        ("!canary", {"canary": "true"}, False),
        ("canary", {"canary": ""}, True),
    ],
)
def test_requirements_match_as_kubernetes_does(selector, labels, expected):
    assert all(r.matches(labels) for r in parse_label_selector(selector)) is expected

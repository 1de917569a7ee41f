"""The wizards' input checks (English, from the pure :mod:`istio_config.wizards.inputs`) reach a Chinese reader in
Chinese: every message bad inputs produce matches a pattern of :mod:`dashboard.wizard_messages` and keeps its values.
"""

from __future__ import annotations

import re

from django.utils import translation

from dashboard.wizard_messages import translate_input_error
from istio_config.wizards.inputs import (
    CircuitBreaking,
    FaultInjection,
    Match,
    Mirroring,
    RequestRouting,
    RouteRule,
    ServiceTarget,
    TimeoutsRetries,
    TrafficShifting,
    WizardInput,
    check_wizard_input,
)

TARGET = ServiceTarget("bookinfo", "reviews", (("v1", (("version", "v1"),)), ("v2", (("version", "v2"),))))
NO_SUBSETS = ServiceTarget("bookinfo", "details")
HAN = re.compile(r"[\u4e00-\u9fff]")

BAD_INPUTS: list[tuple[WizardInput, ServiceTarget]] = [
    (
        RequestRouting(
            (
                RouteRule((), "v9"),
                RouteRule((Match("uri", "exact", "/a", "x"), Match("query", "prefix", "", "")), ""),
                RouteRule((Match("header", "regex", "(", ""), Match("header", "exact", "a", "h")), "v1"),
                RouteRule((Match("header", "exact", "a", "h"), Match("header", "exact", "b", "h")), "v1"),
            ),
            "",
        ),
        TARGET,
    ),
    (TrafficShifting((("v1", 150), ("v2", 0))), TARGET),
    (TrafficShifting(()), NO_SUBSETS),
    (FaultInjection(), TARGET),
    (FaultInjection(delay_percent=120, delay="soon", abort_percent=10, abort_status=99), TARGET),
    (TimeoutsRetries(), TARGET),
    (TimeoutsRetries(attempts=-1, per_try_timeout="2s", retry_on="5xx reset"), TARGET),
    (TimeoutsRetries(attempts=0, per_try_timeout="2s"), TARGET),
    (CircuitBreaking(), TARGET),
    (CircuitBreaking(max_connections=0, interval="10s"), TARGET),
    (Mirroring("v1", 50, "v1"), TARGET),
]


def _messages() -> list[str]:
    found = []
    for wizard, target in BAD_INPUTS:
        for messages in check_wizard_input(wizard, target).by_field.values():
            found.extend(messages)
    return found


def test_every_input_check_message_has_a_chinese_text_keeping_its_values():
    messages = _messages()
    assert len(set(messages)) >= 20, messages  # the bad inputs cover most checks
    with translation.override("zh-hans"):
        for english in messages:
            chinese = translate_input_error(english)
            assert HAN.search(chinese), english
            for value in re.findall(r"\b(?:v\d|\d+|reviews)\b", english):
                assert value in chinese, (english, chinese)


def test_english_stays_as_the_checks_wrote_it_and_unknown_messages_pass_through():
    with translation.override("en"):
        assert [translate_input_error(m) for m in _messages()] == _messages()
    with translation.override("zh-hans"):
        assert translate_input_error("something new") == "something new"


def test_the_refusal_for_several_hand_written_objects_reads_in_chinese():
    from dashboard.wizard_messages import translate_refusal

    english = (
        "2 hand-written VirtualServices route reviews (a, b); 2 hand-written DestinationRules route reviews (c, d)"
        ": a wizard would not know which to replace. Edit or delete them by hand first."
    )
    with translation.override("zh-hans"):
        chinese = translate_refusal(english)
    assert HAN.search(chinese) and "VirtualService" in chinese and "(a, b)" not in chinese and "c, d" in chinese
    with translation.override("en"):
        assert translate_refusal(english) == english
    assert translate_refusal("something else") == "something else"

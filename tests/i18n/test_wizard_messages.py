"""The wizards' messages (:mod:`istio_config.wizards.messages`, emitted by the pure checks and by the refusal of
:func:`istio_config.wizard_writes.prepare_wizard`) reach a Chinese reader in Chinese: every template has a
translation keeping its placeholders, the catalogue module marks exactly those templates, and the values survive.
"""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext

from dashboard.wizard_messages import MARKED, translate_message
from inventory.models import IstioObject
from istio_config.wizard_writes import RoutingState, prepare_wizard
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
from istio_config.wizards.messages import LIST_SEPARATOR, TEMPLATES, Message

TARGET = ServiceTarget("bookinfo", "reviews", (("v1", (("version", "v1"),)), ("v2", (("version", "v2"),))))
NO_SUBSETS = ServiceTarget("bookinfo", "details")
HAN = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\(\w+\)s")

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
    (FaultInjection(delay_percent=10), TARGET),
    (TimeoutsRetries(), TARGET),
    (TimeoutsRetries(attempts=-1, per_try_timeout="2s", retry_on="5xx reset"), TARGET),
    (TimeoutsRetries(attempts=0, per_try_timeout="2s"), TARGET),
    (CircuitBreaking(), TARGET),
    (CircuitBreaking(max_connections=0, interval="10s"), TARGET),
    (Mirroring("v1", 50, "v1"), TARGET),
]


def _messages() -> list[Message]:
    found = []
    for wizard, target in BAD_INPUTS:
        for messages in check_wizard_input(wizard, target).by_field.values():
            found.extend(messages)
    return found


def _templates_in(message: Message) -> set[str]:
    """The message's template and those of the phrases in its values."""
    found = {message.template}
    for value in message.params.values():
        for part in value if isinstance(value, tuple) else (value,):
            if isinstance(part, Message):
                found |= _templates_in(part)
    return found


def _refusal() -> Message:
    """prepare_wizard's refusal on reviews with two hand-written objects of each kind (unsaved rows: no database)."""
    objects = [
        IstioObject(kind=kind, name=name, namespace="bookinfo", labels={})
        for kind, names in (("VirtualService", ("a", "b")), ("DestinationRule", ("c", "d")))
        for name in names
    ]
    refusal = prepare_wizard(RoutingState("bookinfo", "reviews", ["v1"], objects), "request-routing").refusal
    assert refusal is not None
    return refusal


def test_every_template_has_a_chinese_translation_keeping_its_placeholders():
    with translation.override("zh-hans"):
        for template in TEMPLATES:
            chinese = gettext(template)
            assert chinese != template, f"no zh_Hans translation of {template!r}"
            assert template == LIST_SEPARATOR or HAN.search(chinese), (template, chinese)
            assert sorted(PLACEHOLDER.findall(chinese)) == sorted(PLACEHOLDER.findall(template)), template


def test_the_catalogue_module_marks_exactly_the_templates_so_makemessages_keeps_them():
    assert set(TEMPLATES) == MARKED


def test_the_checks_and_the_refusal_emit_only_known_templates():
    emitted = set().union(*(_templates_in(m) for m in [*_messages(), _refusal()]))
    assert emitted <= set(TEMPLATES), emitted - set(TEMPLATES)
    assert len(emitted) >= 24, set(TEMPLATES) - emitted  # the bad inputs cover most checks


def test_chinese_messages_keep_their_values():
    with translation.override("zh-hans"):
        for message in _messages():
            chinese = translate_message(message)
            assert HAN.search(chinese), message
            for value in re.findall(r"\b(?:v\d|\d+|reviews|soon)\b", str(message)):
                assert value in chinese, (str(message), chinese)
        empty_delay = translate_message(
            check_wizard_input(FaultInjection(delay_percent=10), TARGET).by_field["delay"][0]
        )
    assert "空" in empty_delay and "不是有效的时长" in empty_delay and "(empty)" not in empty_delay


def test_english_is_the_text_the_checks_wrote():
    subset = check_wizard_input(Mirroring("v9"), NO_SUBSETS).by_field["mirror_subset"][0]
    assert str(subset) == "v9 is not a subset of details (subsets: none: its workloads have no version label)"
    with translation.override("en"):
        assert [translate_message(m) for m in _messages()] == [str(m) for m in _messages()]


def test_the_refusal_for_several_hand_written_objects_reads_in_chinese():
    refusal = _refusal()
    english = (
        "2 hand-written DestinationRules route reviews (c, d); 2 hand-written VirtualServices route reviews (a, b)"
        ": a wizard would not know which to replace. Edit or delete them by hand first."
    )
    assert str(refusal) == english
    with translation.override("en"):
        assert translate_message(refusal) == english
    with translation.override("zh-hans"):
        chinese = translate_message(refusal)
    assert chinese.startswith("2 个手工编写的 DestinationRule 在路由 reviews")
    assert "2 个手工编写的 VirtualService 在路由 reviews" in chinese and "向导无法确定要替换哪一个" in chinese
    assert "c, d" in chinese and "a, b" in chinese and "; " not in chinese and "\uff1b" in chinese  # fullwidth ;

"""Health calculators: thresholds at their boundaries, replicas, settings and annotation overrides."""

from __future__ import annotations

import pytest

from topology.health import (
    DEFAULT_HEALTH_CONFIG,
    HEALTH_RATE_ANNOTATION,
    HealthAnnotationError,
    HealthResult,
    HealthStatus,
    RateThreshold,
    RequestRates,
    WorkloadReplicas,
    build_health_config,
    build_request_rates,
    compute_app_health,
    compute_namespace_health,
    compute_rate_health,
    compute_replica_health,
    compute_service_health,
    compute_workload_health,
    parse_health_rate,
    resolve_health_config,
    worst_status,
)

H, D, F = HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.FAILURE


def http(total: float, e4: float = 0.0, e5: float = 0.0) -> RequestRates:
    return RequestRates(http=total, http_4xx=e4, http_5xx=e5)


@pytest.mark.parametrize(
    ("errors", "status"),
    [(0.0, H), (0.001, D), (9.99, D), (10.0, F), (50.0, F)],
)
def test_5xx_boundaries_any_error_degrades_and_10_percent_fails(errors, status):
    assert compute_service_health(http(100.0, e5=errors)).status == status


@pytest.mark.parametrize(
    ("errors", "status"),
    [(9.99, H), (10.0, D), (19.99, D), (20.0, F)],
)
def test_4xx_boundaries_degraded_from_10_and_failure_from_20_percent(errors, status):
    assert compute_service_health(http(100.0, e4=errors)).status == status


@pytest.mark.parametrize(("errors", "status"), [(0.0, H), (0.5, D), (10.0, F)])
def test_grpc_error_boundaries(errors, status):
    assert compute_service_health(RequestRates(grpc=100.0, grpc_err=errors)).status == status


def test_reason_states_rate_and_threshold():
    assert compute_service_health(http(8.0, e5=1.0)).reason == "5xx 12.5% ≥ 10%"
    assert compute_service_health(http(100.0, e5=1.0)).reason == "5xx 1% > 0%"
    assert compute_service_health(http(100.0, e4=15.0)).reason == "4xx 15% ≥ 10%"


def test_no_requests_means_no_health_information():
    assert compute_service_health(RequestRates()).status == HealthStatus.NA
    assert compute_service_health(None).status.value == "No health information"


def test_worst_class_wins_and_every_failing_class_is_explained():
    result = compute_rate_health(http(100.0, e4=25.0, e5=1.0))
    assert result.status == F
    assert result.reasons == ("5xx 1% > 0%", "4xx 25% ≥ 20%")


@pytest.mark.parametrize(
    ("desired", "current", "available", "status", "reason"),
    [
        (3, 3, 3, H, ""),
        (3, 3, 1, D, "reviews-v1: 1/3 pods ready"),
        (3, 3, 0, F, "reviews-v1: 0/3 pods ready"),
        (0, 0, 0, HealthStatus.NOT_READY, "reviews-v1: scaled to 0 pods"),
    ],
)
def test_workload_replica_health(desired, current, available, status, reason):
    result = compute_replica_health(WorkloadReplicas("reviews-v1", desired, current, available))
    assert (result.status, result.reason) == (status, reason)


def test_workload_health_is_worst_of_pods_and_traffic_and_warns_about_missing_sidecar():
    replicas = WorkloadReplicas("legacy", 2, 2, 2, has_sidecar=False)
    result = compute_workload_health(replicas, inbound=http(10.0, e5=2.0), outbound=http(5.0))
    assert result.status == F
    assert result.reasons == ("inbound 5xx 20% ≥ 10%",)
    assert result.warnings == ("legacy: missing sidecar",)


def test_workload_without_any_information_has_no_health():
    assert compute_workload_health().status == HealthStatus.NA


def test_app_health_aggregates_workloads_and_outbound_errors():
    workloads = [WorkloadReplicas("reviews-v1", 1, 1, 1), WorkloadReplicas("reviews-v2", 2, 2, 1)]
    result = compute_app_health(workloads, inbound=http(10.0), outbound=http(10.0, e5=0.5))
    assert result.status == D
    assert result.reasons == ("reviews-v2: 1/2 pods ready", "outbound 5xx 5% > 0%")


def test_namespace_health_counts_per_status():
    summary = compute_namespace_health(
        [HealthResult(H), HealthResult(H), HealthResult(F), HealthResult(HealthStatus.NA)]
    )
    assert summary.counts[H] == 2 and summary.counts[F] == 1 and summary.counts[D] == 0
    assert summary.status == F
    assert summary.reason == "1 Failure, 2 Healthy, 1 No health information"


def test_worst_status_ranking_matches_kiali():
    assert worst_status([H, HealthStatus.NOT_READY]) == HealthStatus.NOT_READY
    assert worst_status([D, HealthStatus.NOT_READY, H]) == D
    assert worst_status([]) == HealthStatus.NA


def test_annotation_overrides_only_the_classes_it_names():
    config = resolve_health_config(annotations={HEALTH_RATE_ANNOTATION: "5xx:1:5"})
    assert config.thresholds["5xx"] == RateThreshold(1.0, 5.0)
    assert config.thresholds["4xx"] == DEFAULT_HEALTH_CONFIG.thresholds["4xx"]
    assert compute_service_health(http(100.0, e5=0.5), config).status == H
    assert compute_service_health(http(100.0, e5=5.0), config).status == F
    assert config.annotations == {HEALTH_RATE_ANNOTATION: "5xx:1:5"}


def test_annotation_can_switch_a_class_off():
    config = resolve_health_config(annotations={HEALTH_RATE_ANNOTATION: "4xx:off"})
    assert compute_service_health(http(100.0, e4=90.0), config).status == H


def test_malformed_annotation_keeps_base_thresholds_and_reports_the_error():
    config = resolve_health_config(annotations={HEALTH_RATE_ANNOTATION: "5xx:20:10"})
    assert config.thresholds == DEFAULT_HEALTH_CONFIG.thresholds
    assert "degraded <= failure" in config.error
    assert compute_service_health(http(1.0), config).warnings == (config.error,)


@pytest.mark.parametrize("value", ["6xx:1:2", "5xx:1", "5xx:a:b", "5xx:-1:5", "4xx:10:101"])
def test_parse_health_rate_rejects_bad_entries(value):
    with pytest.raises(HealthAnnotationError):
        parse_health_rate(value)


def test_settings_dict_changes_global_defaults():
    config = build_health_config({"rate": {"4xx": {"degraded": 5, "failure": 50}, "grpc": {"enabled": False}}})
    assert config.thresholds["4xx"] == RateThreshold(5.0, 50.0)
    assert not config.thresholds["grpc"].enabled
    assert build_health_config({"rate": "5xx:2:20"}).thresholds["5xx"] == RateThreshold(2.0, 20.0)
    assert build_health_config().thresholds == DEFAULT_HEALTH_CONFIG.thresholds


def test_request_rates_from_response_codes():
    assert build_request_rates({"200": 8.0, "404": 1.0, "503": 1.0}) == RequestRates(10.0, 1.0, 1.0)
    assert build_request_rates({"0": 9.0, "14": 1.0}, "grpc") == RequestRates(grpc=10.0, grpc_err=1.0)

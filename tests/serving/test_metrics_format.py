"""The hand-written /metrics text is what prometheus_client's parser reads, value for value."""

from __future__ import annotations

import pytest

from siamkit.serving.metrics import ServiceMetrics

parser = pytest.importorskip("prometheus_client.parser")


def test_prometheus_client_parses_every_series_with_our_values() -> None:
    m = ServiceMetrics()
    m.observe_request("POST", "/verify", 200, 0.004)
    m.observe_request("POST", "/verify", 422, 0.030)
    m.observe_request("GET", "/items/{item_id}", 404, 0.002)
    m.observe_batch(3)
    families = {f.name: f for f in parser.text_string_to_metric_families(m.render())}
    requests = {
        (s.labels["method"], s.labels["path"], s.labels["status"]): s.value
        for s in families["siamkit_requests"].samples
        if s.name == "siamkit_requests_total"
    }
    assert requests == {
        ("POST", "/verify", "200"): 1.0,
        ("POST", "/verify", "422"): 1.0,
        ("GET", "/items/{item_id}", "404"): 1.0,
    }
    for family in families.values():
        if family.type != "histogram":
            continue
        for series in {
            tuple(sorted((k, v) for k, v in s.labels.items() if k != "le")) for s in family.samples
        }:
            rows = [
                s
                for s in family.samples
                if tuple(sorted((k, v) for k, v in s.labels.items() if k != "le")) == series
            ]
            buckets = [s.value for s in rows if s.name.endswith("_bucket")]
            count = next(s.value for s in rows if s.name.endswith("_count"))
            assert buckets == sorted(buckets) and buckets[-1] == count  # cumulative, +Inf = count

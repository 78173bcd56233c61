"""Request counts, latencies and micro-batch sizes in the Prometheus text format (version 0.0.4).

Written by hand on purpose: the service needs three families (counters and cumulative
histograms with the conventional ``_bucket{le=...}``, ``_sum`` and ``_count`` series), kept per
app instance (``prometheus_client`` keeps one process-wide registry, so two apps in one process,
as in the tests, would share or clash), and no extra dependency for the ``serve`` extra.
``tests/serving/test_metrics_format.py`` parses the output with ``prometheus_client``'s own
parser and checks every value. Paths are labelled by
route template (``/items/{item_id}``), never by the raw URL, so the number of series stays
bounded.

Example:
    >>> m = ServiceMetrics()
    >>> m.observe_request("POST", "/verify", 200, 0.004)
    >>> "siamkit_requests_total" in m.render()
    True
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Histogram:
    """A cumulative histogram over fixed upper bounds (``le``), plus sum and count."""

    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        """Add one observation."""
        i = bisect.bisect_left(self.buckets, value)
        if i < len(self.counts):
            self.counts[i] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str, labels: str) -> list[str]:
        """``name_bucket``/``_sum``/``_count`` lines; ``labels`` is ``k="v",...`` or empty."""
        sep = "," if labels else ""
        out, running = [], 0
        for bound, c in zip(self.buckets, self.counts, strict=True):
            running += c
            out.append(f'{name}_bucket{{{labels}{sep}le="{_num(bound)}"}} {running}')
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}')
        braces = f"{{{labels}}}" if labels else ""
        out.append(f"{name}_sum{braces} {_num(self.total)}")
        out.append(f"{name}_count{braces} {self.count}")
        return out


class ServiceMetrics:
    """Thread-safe counters and histograms of one service, rendered for ``GET /metrics``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._latency: dict[tuple[str, str], Histogram] = {}
        self._batches = Histogram(BATCH_BUCKETS)
        self._started = time.time()

    def observe_request(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count one finished request and its latency."""
        with self._lock:
            self._requests[(method, path, status)] += 1
            key = (method, path)
            if key not in self._latency:
                self._latency[key] = Histogram(LATENCY_BUCKETS)
            self._latency[key].observe(seconds)

    def observe_batch(self, size: int) -> None:
        """Record the number of items in one model call."""
        with self._lock:
            self._batches.observe(size)

    def request_count(self, path: str, status: int | None = None) -> int:
        """Requests seen for a route template (and status, if given)."""
        with self._lock:
            return sum(
                n
                for (_, p, s), n in self._requests.items()
                if p == path and (status is None or s == status)
            )

    def render(self) -> str:
        """The whole exposition, one metric family after another."""
        with self._lock:
            lines = [
                "# HELP siamkit_requests_total HTTP requests served, by method, route and status.",
                "# TYPE siamkit_requests_total counter",
            ]
            for (method, path, status), n in sorted(self._requests.items()):
                labels = f'method="{method}",path="{_escape(path)}",status="{status}"'
                lines.append(f"siamkit_requests_total{{{labels}}} {n}")
            lines += [
                "# HELP siamkit_request_duration_seconds Time from request start to response end.",
                "# TYPE siamkit_request_duration_seconds histogram",
            ]
            for (method, path), hist in sorted(self._latency.items()):
                labels = f'method="{method}",path="{_escape(path)}"'
                lines += hist.lines("siamkit_request_duration_seconds", labels)
            lines += [
                "# HELP siamkit_batch_size Items per model call made by the micro-batcher.",
                "# TYPE siamkit_batch_size histogram",
            ]
            lines += self._batches.lines("siamkit_batch_size", "")
            lines += [
                "# HELP siamkit_start_time_seconds Unix time the service started.",
                "# TYPE siamkit_start_time_seconds gauge",
                f"siamkit_start_time_seconds {_num(self._started)}",
            ]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """ASGI middleware timing every HTTP request into a :class:`ServiceMetrics`.

    Args:
        app: The wrapped application.
        metrics: Where to count.
        templates: ``(path regex, route template)`` of the app's routes, to label requests
            answered before routing (an oversize body) by their route.
    """

    def __init__(
        self,
        app: ASGIApp,
        metrics: ServiceMetrics,
        templates: Sequence[tuple[re.Pattern[str], str]] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = list(templates)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = _route_path(scope, self.templates)
            elapsed = time.perf_counter() - start
            self.metrics.observe_request(scope.get("method", "?"), path, status, elapsed)


def _route_path(scope: Scope, templates: Sequence[tuple[re.Pattern[str], str]]) -> str:
    """The route template that handled (or would have handled) the request, or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is None:  # answered before routing (e.g. an oversize body): match it now
        raw = scope.get("path", "")
        path = next((t for regex, t in templates if regex.match(raw)), "unmatched")
    return str(path)


def _num(v: float) -> str:
    return repr(float(v)) if not float(v).is_integer() else f"{float(v):.1f}"


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

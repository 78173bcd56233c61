"""retrieval_metrics stays memory-bounded on 100,000 x 128 embeddings (peak RSS < 2 GiB).

The run happens in a fresh interpreter so its peak RSS (``ru_maxrss``) is not inflated by
whatever the test session allocated earlier. A full 100,000 x 100,000 float32 distance
matrix would be 37 GiB; chunked search needs about 1024 x 1,000 neighbours at a time.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

GIB_IN_KIB = 1 << 20  # ru_maxrss is in KiB on Linux

_SCRIPT = textwrap.dedent(
    """
    import resource

    import numpy as np

    from siamkit.evaluation.retrieval_metrics import retrieval_metrics

    n, dim, classes = 100_000, 128, 100
    rng = np.random.default_rng(0)
    labels = np.arange(n) % classes  # 1,000 items per class: R = 999 for every query
    centres = rng.standard_normal((classes, dim), dtype=np.float32)
    emb = centres[labels] + 1.5 * rng.standard_normal((n, dim), dtype=np.float32)
    del centres
    m = retrieval_metrics(emb, labels, distance="euclidean", ks=(1, 5, 10))
    assert m.num_queries == n and m.num_queries_without_match == 0
    for value in m.as_dict().values():
        assert 0.0 <= value <= n
    print(m.precision_at_1, m.map_at_r, m.r_precision)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


@pytest.mark.slow
def test_100k_embeddings_stay_under_2_gib() -> None:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=600, check=False
    )
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    *_, metrics_line, rss_line = done.stdout.strip().splitlines()
    p1, map_at_r, r_precision = (float(v) for v in metrics_line.split())
    peak_kib = int(rss_line)
    print(
        f"peak RSS {peak_kib / 1024:.0f} MiB in {seconds:.1f} s; P@1 {p1:.3f} MAP@R {map_at_r:.3f}"
    )
    assert 0.0 < map_at_r <= r_precision < 1.0  # noisy enough for a non-trivial ranking
    assert peak_kib < 2 * GIB_IN_KIB, f"peak RSS {peak_kib / 1024:.0f} MiB is over 2 GiB"

"""Hypothesis settings for the property tests: derandomized, so CI sees the same examples on
every run, no deadline (a shared 2-core machine has slow moments), no example database (runs do
not depend on what an earlier run found) and few examples, so the folder stays under a minute.

A test that wants more or fewer examples says so with ``@settings(max_examples=...)``; the rest
of this profile still applies. ``HYPOTHESIS_PROFILE=property-long`` runs ten times as many,
randomized, for a deeper hunt by hand.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "property",
    derandomize=True,
    deadline=None,
    database=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "property-long",
    parent=settings.get_profile("property"),
    derandomize=False,
    max_examples=250,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "property"))

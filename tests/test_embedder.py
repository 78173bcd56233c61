"""The weights fingerprint: stable for equal weights, different for any changed value."""

from __future__ import annotations

import hashlib

import numpy as np

from siamkit.run import fingerprint_weights


def test_fingerprint_is_order_free_and_sensitive_to_every_value() -> None:
    a = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.zeros(3, np.float32)}
    same = {"b": np.zeros(3, np.float32), "w": np.arange(6, dtype=np.float32).reshape(2, 3)}
    assert fingerprint_weights(a) == fingerprint_weights(same)
    changed = {**a, "b": np.array([0, 0, 1e-7], np.float32)}
    assert fingerprint_weights(changed) != fingerprint_weights(a)
    reshaped = {**a, "w": a["w"].reshape(3, 2)}
    assert fingerprint_weights(reshaped) != fingerprint_weights(a)


def test_fingerprint_matches_a_hand_built_sha256_and_marks_variants() -> None:
    w = {"x": np.array([1.0, 2.0], np.float32)}
    h = hashlib.sha256(b"x" + b"float32" + b"(2,)" + w["x"].tobytes()).hexdigest()[:16]
    assert fingerprint_weights(w) == h
    assert fingerprint_weights(w, variant="int8") == h + ":int8"

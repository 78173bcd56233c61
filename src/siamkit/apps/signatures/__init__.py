"""Signatures: synthetic writers and skilled forgeries in CEDAR's layout, and their evaluation.

The ``cedar:DIR`` and ``cedar-hands:DIR`` data sources, a synthetic set written in installed
hand-style fonts (``siamkit signatures render``), genuine/skilled/random pair rates at a
threshold calibrated against forgeries (``siamkit signatures evaluate | calibrate``). The
recipe: docs/applications/signatures.md.

Example (a tiny synthetic set, scored with runs/digits, a digits model: any image run reads
the signatures at its own input size; a run trained on ``cedar:sigs`` does far better):
    >>> from siamkit.apps.signatures import evaluate_signatures, render_signature_set
    >>> info = render_signature_set(
    ...     "sigs", writers=10, val_writers=4, eval_writers=3, genuine=4, forgeries=2
    ... )
    >>> report = evaluate_signatures("runs/digits", "sigs", writers=info.parts["eval"])
    >>> round(report.skilled.far, 3), round(report.random.far, 3)
    (0.667, 0.333)
"""

from __future__ import annotations

from typing import Any

from siamkit.lazy import exported_names, lazy_export

# submodule -> its public names, imported on first use so that importing this package (and its
# plugin) stays cheap
_EXPORTS = {
    "calibration": ("calibrate_signatures",),
    "cedar": (
        "CedarFile",
        "CedarSet",
        "read_cedar",
        "scan_cedar",
    ),
    "dataset": (
        "Forgery",
        "SignatureSetInfo",
        "Writer",
        "render_signature_set",
    ),
    "evaluate": (
        "ForgeryRates",
        "SignatureDistances",
        "SignaturePairs",
        "SignatureReport",
        "evaluate_signatures",
        "forgery_rates",
        "signature_distances",
        "signature_pairs",
    ),
    "handwriting_fonts": (
        "HandFont",
        "find_hand_fonts",
        "hands_from_files",
    ),
    "render": (
        "WriterStyle",
        "draw_style",
        "imitate",
        "render_signature",
    ),
}
__all__ = exported_names(_EXPORTS)


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, _EXPORTS, name)

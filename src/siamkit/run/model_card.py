"""The run's model card: ``RUN/README.md``, what a reader needs before trusting the model.

Written from the run's records alone (:func:`~siamkit.run.open_run`), and rewritten whenever a
record it shows changes (training, evaluation, calibration, ``siamkit init``): what the model
was trained on and how, the classes it never saw and its figures there, the decision threshold
and where it came from, and the intended use and limits. Like sentence-transformers' generated
card, it is documentation, never read back.

Example:
    >>> path = write_model_card("runs/digits")
    >>> print(path)
    runs/digits/README.md
    >>> path.read_text().splitlines()[0]
    '# digits: a siamkit image embedding model'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from siamkit.run.decision import promise_basis
from siamkit.run.files import MODEL_CARD, write_text
from siamkit.run.record import RunRecord, open_run

THRESHOLD_ORIGINS = {
    "operating_point": "training's operating point, fitted on pairs of held-out training classes",
    "calibration": "`siamkit calibrate`",
    "validation": "the best accuracy on validation pairs",
}


def model_card(run: RunRecord) -> str:
    """The card's Markdown text for a run's records."""
    train, model, metrics = run.train, run.model, run.metrics
    name = run.path.resolve().name
    untrained = str(train.get("train_classes", "")).strip() == "none"
    lines = [f"# {name}: a siamkit {model.get('kind', '')} embedding model", ""]
    lines += [
        f"Encoder `{model.get('encoder')}` mapping one input of shape "
        f"{tuple(model.get('input_shape') or ())} to a {model.get('embedding_dim')}-d "
        f"embedding compared by `{model.get('distance')}` distance "
        f"(run format {run.format}, kind `{run.kind}`)."
        + (
            " Half of it is the pretrained encoder's own features, kept untouched beside the "
            "fine-tuned half (`--keep-pretrained`)."
            if model.get("keep_pretrained")
            else ""
        ),
        "",
        "## Training",
        "",
    ]
    if untrained:
        lines.append("Not trained: the pretrained encoder as it is (`siamkit init`).")
    else:
        lines += [
            f"- data: `{train.get('data')}`, classes `{train.get('train_classes')}`",
            f"- loss: `{train.get('loss')}`, {_count(train.get('epochs'), 'epoch')}, "
            f"seed {train.get('seed')}",
        ]
        selection, refit = metrics.get("selection"), metrics.get("refit")
        if isinstance(selection, Mapping) and isinstance(refit, Mapping):
            lines.append(
                f"- epochs chosen on held-out training classes ({selection.get('best_epoch')}), "
                f"then refit on every training class for {_count(refit.get('epochs'), 'epoch')}"
            )
        elif metrics.get("best_epoch"):
            lines.append(f"- best epoch {metrics.get('best_epoch')} on validation data")
    lines += ["", "## Held-out figures", ""]
    lines += _figures(metrics.get("evaluation_best"), train)
    lines += ["", "## Deciding same or different", ""]
    lines += _decision(run)
    lines += [
        "",
        "## Intended use and limits",
        "",
        "Verification (are these two the same?) and identification against a gallery of "
        "enrolled examples, for inputs like the training data. The figures above hold for the "
        "classes named there; other data can differ. Measure on data of your own "
        f"(`siamkit evaluate {name} --data SOURCE --classes C`) and calibrate the threshold "
        "for it (`siamkit calibrate`) before relying on the decisions.",
        "",
        f"Load it with `siamkit.run.load_embedder({name!r})`, or `siamkit verify`, "
        "`siamkit gallery create --model`, `siamkit serve`, `siamkit export`.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(run_dir: str | Path) -> Path:
    """Write ``RUN/README.md`` from the run's records (atomically); returns its path."""
    run = open_run(run_dir)
    path = run.path / MODEL_CARD
    write_text(path, model_card(run))
    return path


def _figures(evaluation: Any, train: Mapping[str, Any]) -> list[str]:
    if not isinstance(evaluation, Mapping):
        eval_classes = str(train.get("eval_classes", "")).strip()
        if eval_classes in ("", "none"):
            return ["No evaluation classes: not yet evaluated on classes it never saw."]
        return [f"Not yet evaluated: `siamkit evaluate` on classes `{eval_classes}`."]
    ver, ret = evaluation.get("verification") or {}, evaluation.get("retrieval") or {}
    classes = ", ".join(map(str, evaluation.get("classes") or []))
    rows = [
        f"On `{evaluation.get('data')}` classes {classes} ({evaluation.get('num_items')} "
        "items, never seen in training):",
        "",
        "| figure | value | 95% interval |",
        "|---|---|---|",
    ]
    for label, value in (
        ("precision@1", ret.get("precision_at_1")),
        ("MAP@R", ret.get("map_at_r")),
        ("ROC-AUC", ver.get("roc_auc")),
        ("EER", ver.get("eer")),
    ):
        point = _value(value)
        if isinstance(point, int | float):
            rows.append(f"| {label} | {point:.4f} | {_interval(value)} |")
    return rows


def _decision(run: RunRecord) -> list[str]:
    source = run.threshold_source()
    if source is None:
        return ["No threshold yet: `siamkit calibrate` fits one (with a probability map)."]
    rule = run.decision_rule(larger_is_closer=False)  # siamkit's distances: smaller is closer
    assert rule is not None  # a source implies a rule (a calibration records its own side)
    side = ">=" if rule.larger_is_closer else "<="
    lines = [
        f"Same when distance {side} {rule.threshold:.4f} ({THRESHOLD_ORIGINS.get(source, source)})."
    ]
    point = run.metrics.get("operating_point")
    if source == "operating_point" and isinstance(point, Mapping):
        lines.append(
            f"It promises a false accept rate of {point.get('promised_far')} "
            f"(target {point.get('target_far')}) on classes the model never saw."
        )
        basis = promise_basis(point.get("unseen_class_pairs"))
        if basis is not None:
            lines.append(
                f"The promise rests on {basis}: on other unseen classes the FAR at this "
                "threshold can be several times higher or lower."
            )
    evaluation = run.metrics.get("evaluation_best")
    achieved = evaluation.get("operating_point") if isinstance(evaluation, Mapping) else None
    if isinstance(achieved, Mapping) and achieved.get("far") is not None:
        lines.append(
            f"Achieved on the held-out classes: FAR {achieved['far']:.4f}, "
            f"FRR {achieved.get('frr', float('nan')):.4f}."
        )
    cal = run.calibration
    if source == "calibration" and cal is not None:
        aim = (
            f"for a false accept rate of {cal.target_far}"
            if cal.target_far
            else (f"for the best {cal.objective}")
        )
        rates = cal.test_rates or cal.calibration_rates
        part = "held-out test pairs" if cal.test_rates else "its calibration pairs"
        lines.append(
            f"Fitted by `siamkit calibrate` {aim}; on {part}: FAR {rates.far:.4f}, "
            f"FRR {rates.frr:.4f}."
        )
    if rule.calibrated:
        lines.append("A calibrated probability P(same) comes with each decision.")
    return lines


def _value(x: Any) -> Any:
    return x.get("value") if isinstance(x, Mapping) else x


def _interval(x: Any) -> str:
    """``low-high`` of a bootstrap interval record, or a dash without one."""
    if isinstance(x, Mapping) and isinstance(x.get("low"), int | float):
        low, high = x["low"], x.get("high")
        if isinstance(high, int | float) and high > low:
            return f"{low:.4f}-{high:.4f}"
    return "—"


def _count(n: Any, noun: str) -> str:
    """``1 epoch``, ``3 epochs`` (and ``None epochs`` never: an unknown count is ``? epochs``)."""
    if not isinstance(n, int):
        return f"? {noun}s"
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

"""Issue 25 item 5: the CLI says what it does: the demo's recipe comes from its config, and a
validation threshold is never called calibrated."""

from __future__ import annotations

from siamkit.cli.demo import describe_recipe
from siamkit.evaluation.run_eval import operating_point_line, threshold_origin
from siamkit.training import TrainConfig


def test_demo_describes_the_recipe_it_trains() -> None:
    text = describe_recipe(TrainConfig(data="digits"))
    assert text == (
        "a conv encoder; multi-similarity loss + uniformity (weight 0.3 from 500 images per class, "
        "off below) + rotation prediction (weight 1)"
    )
    assert describe_recipe(TrainConfig(data="digits", loss="triplet")) == (
        "a conv encoder; triplet loss"
    )


def test_a_validation_threshold_is_not_called_calibrated() -> None:
    record = {
        "operating_point": {
            "threshold": 0.7, "from": "training", "target_far": None,
            "promised_far": None, "promised_frr": None, "far": 0.1, "frr": 0.2,
        }
    }  # fmt: skip
    assert threshold_origin(record) == "from training's validation pairs, not calibrated"
    line = operating_point_line(record)
    assert line is not None and "validation" in line and "from calibration" not in line

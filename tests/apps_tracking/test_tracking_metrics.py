"""IoU, OTB success AUC and precision@20 against hand-worked boxes and plain loops."""

from __future__ import annotations

import numpy as np
import pytest

from siamkit.apps.tracking.boxes import centre_error, iou, parse_box
from siamkit.apps.tracking.metrics import score_ope, score_sequence, success_curve


def test_iou_hand_worked() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 4, 4], [5, 5, 2, 2]], float)
    b = np.array([[5, 0, 10, 10], [0, 0, 10, 10], [10, 10, 4, 4], [4, 4, 4, 4]], float)
    # 50 / 150; identical; disjoint; inside (4 / 16)
    np.testing.assert_allclose(iou(a, b), [1 / 3, 1.0, 0.0, 0.25])


def test_centre_error_hand_worked() -> None:
    a = np.array([[0, 0, 10, 10]], float)  # centre (5, 5)
    b = np.array([[3, 4, 10, 10]], float)  # centre (8, 9)
    np.testing.assert_allclose(centre_error(a, b), [5.0])


def test_success_and_precision_against_a_plain_loop() -> None:
    truth = np.array([[10, 10, 20, 20]] * 4, float)
    pred = np.array(
        [
            [10, 10, 20, 20],  # IoU 1, error 0
            [20, 10, 20, 20],  # IoU 200/600 = 1/3, error 10
            [40, 10, 20, 20],  # IoU 0, error 30
            [12, 10, 20, 20],  # IoU 360/440 = 9/11, error 2
        ],
        float,
    )
    overlaps = [1.0, 1 / 3, 0.0, 9 / 11]
    thresholds = [i / 20 for i in range(21)]
    curve = [sum(o > t for o in overlaps) / 4 for t in thresholds]
    np.testing.assert_allclose(success_curve(pred, truth), curve)
    s = score_sequence(pred, truth)
    assert s.auc == pytest.approx(sum(curve) / 21)
    assert s.precision == pytest.approx(3 / 4)  # errors 0, 10, 30, 2
    # hand-worked AUC: 1 counts above 20 thresholds (0..0.95), 1/3 above 7 (0..0.30),
    # 9/11 = 0.818 above 17 (0..0.80), 0 above none
    assert s.auc == pytest.approx((20 + 7 + 17 + 0) / 4 / 21)


def test_ope_averages_sequences_not_frames() -> None:
    t1 = np.array([[0, 0, 10, 10]] * 3, float)
    t2 = np.array([[0, 0, 10, 10]], float)
    p1 = t1.copy()
    p2 = np.array([[100, 100, 10, 10]], float)
    r = score_ope([p1, p2], [t1, t2])
    assert r.precision == pytest.approx(0.5)  # per sequence 1 and 0, not 3/4 over frames
    assert r.auc == pytest.approx((20 / 21 + 0) / 2)


def test_score_refuses_a_wrong_number_of_boxes() -> None:
    with pytest.raises(ValueError, match="one box per frame"):
        score_sequence(np.zeros((3, 4)), np.zeros((2, 4)))


@pytest.mark.parametrize("text", ["1,2,3,4", "1 2 3 4", "1\t2\t3\t4", "1, 2, 3, 4"])
def test_parse_box_separators(text: str) -> None:
    assert parse_box(text) == (1.0, 2.0, 3.0, 4.0)


def test_parse_box_errors_name_the_input() -> None:
    with pytest.raises(ValueError, match="x,y,w,h"):
        parse_box("1,2,3")
    with pytest.raises(ValueError, match="positive"):
        parse_box("1,2,0,4")

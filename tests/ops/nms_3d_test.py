import numpy as np
import pytest
from keras import ops

from keras_suite.ops import non_max_suppression_3d, rotated_box_iou_3d
from keras_suite.testing import TestCase


def brute_force_nms(boxes, scores, threshold, limit=None):
    """Visits boxes best first and keeps one unless it overlaps a kept box above `threshold`."""
    iou = ops.convert_to_numpy(rotated_box_iou_3d(boxes[:, None], boxes[None]))
    kept = []
    for index in sorted(range(len(boxes)), key=lambda i: (-scores[i], i)):
        if all(iou[index, other] <= threshold for other in kept):
            kept.append(index)
    return kept[:limit]


def random_boxes(seed, count):
    rng = np.random.default_rng(seed)
    centres = rng.uniform([0, 0, 0], [2.5, 2.5, 0.3], (count, 3))
    sizes = rng.uniform(0.4, 1.5, (count, 3))
    yaws = rng.uniform(-np.pi, np.pi, (count, 1))
    return np.concatenate([centres, sizes, yaws], 1).astype("float32"), rng.uniform(size=count)


class NonMaxSuppression3DTest(TestCase):
    def test_hand_worked(self):
        boxes = np.array(
            [[0, 0, 0, 2, 2, 2, 0], [0.1, 0, 0, 2, 2, 2, 0], [5, 0, 0, 1, 1, 1, 0.3]], "float32"
        )
        kept = non_max_suppression_3d(boxes, np.array([0.9, 0.8, 0.7]), 0.5)
        self.assertAllEqual(kept, np.array([0, 2]))
        # With the first box scoring lowest, the second suppresses it instead.
        kept = non_max_suppression_3d(boxes, np.array([0.1, 0.8, 0.7]), 0.5)
        self.assertAllEqual(kept, np.array([1, 2]))

    def test_against_brute_force(self):
        for seed, threshold in ((0, 0.1), (2, 0.5)):
            boxes, scores = random_boxes(seed, 30)
            expected = brute_force_nms(boxes, scores, threshold)
            self.assertGreater(len(expected), 3)
            self.assertLess(len(expected), 30)
            kept = non_max_suppression_3d(boxes, scores, threshold)
            self.assertAllEqual(kept, np.array(expected))

    def test_max_output_size_and_score_threshold(self):
        boxes, scores = random_boxes(3, 30)
        expected = brute_force_nms(boxes, scores, 0.2, limit=4)
        self.assertAllEqual(non_max_suppression_3d(boxes, scores, 0.2, 4), np.array(expected))
        confident = scores >= 0.5
        subset = np.flatnonzero(confident)
        expected = subset[brute_force_nms(boxes[subset], scores[subset], 0.2)]
        kept = non_max_suppression_3d(boxes, scores, 0.2, score_threshold=0.5)
        self.assertAllEqual(kept, expected)

    def test_empty(self):
        kept = non_max_suppression_3d(np.zeros((0, 7)), np.zeros((0,)), 0.5)
        self.assertEqual(kept.shape, (0,))

    def test_bad_input(self):
        with pytest.raises(ValueError, match="`boxes`"):
            non_max_suppression_3d(np.zeros((3, 6)), np.zeros(3))
        with pytest.raises(ValueError, match="`scores`"):
            non_max_suppression_3d(np.zeros((3, 7)), np.zeros(2))
        with pytest.raises(ValueError, match="iou_threshold"):
            non_max_suppression_3d(np.zeros((3, 7)), np.zeros(3), 1.5)
        with pytest.raises(ValueError, match="finite"):
            non_max_suppression_3d(np.full((1, 7), np.nan), np.zeros(1))

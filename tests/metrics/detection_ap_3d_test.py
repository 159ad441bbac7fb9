import keras
import numpy as np
import pytest

from keras_suite.metrics import DetectionAP3D
from keras_suite.testing import TestCase


def unit_box(x, y=0.0):
    return [x, y, 0.5, 1.0, 1.0, 1.0, 0.0]


def hand_scenes():
    truth = [
        {"boxes": np.array([unit_box(0), unit_box(3)]), "classes": np.array([1, 1])},
        {"boxes": np.array([unit_box(0), unit_box(5, 5)]), "classes": np.array([1, 2])},
    ]
    detections = [
        {
            # IoU 0.9/1.1 (a hit), the same box again (IoU 0.8/1.2, a duplicate), a box far
            # from everything, and a class-2 box where only class 1 is.
            "boxes": np.array([unit_box(0.1), unit_box(0.2), unit_box(9), unit_box(0)]),
            "scores": np.array([0.9, 0.8, 0.6, 0.95]),
            "classes": np.array([1, 1, 1, 2]),
        },
        {
            # IoU 0.5/1.5 = 1/3 with its class-1 box, an exact class-2 box, and a class-3 box
            # (no class-3 ground truth: left out of the mean).
            "boxes": np.array([unit_box(0.5), unit_box(5, 5), unit_box(0)]),
            "scores": np.array([0.7, 0.5, 0.99]),
            "classes": np.array([1, 2, 3]),
        },
    ]
    return truth, detections


class DetectionAP3DTest(TestCase):
    def test_hand_worked(self):
        truth, detections = hand_scenes()
        metric = DetectionAP3D((0.25, 0.5))
        metric.update_state(truth, detections)
        per_class = metric.per_class_ap()
        # Class 1 at 0.25: hit, duplicate, hit, miss over 3 boxes; precision envelope
        # (1, 2/3, 2/3, 1/2) at recalls (1/3, 1/3, 2/3, 2/3): AP = 1/3 + 1/3 * 2/3 = 5/9.
        self.assertAllClose(per_class[0.25][1], 5 / 9)
        # At 0.5 the IoU-1/3 detection misses: AP = 1/3 * 1.
        self.assertAllClose(per_class[0.5][1], 1 / 3)
        # Class 2: a miss then a hit on its only box: AP = 1 * 1/2.
        self.assertAllClose(per_class[0.25][2], 0.5)
        self.assertEqual(sorted(per_class[0.5]), [1, 2])
        result = metric.result()
        self.assertAllClose(result["ap@0.25"], (5 / 9 + 0.5) / 2)
        self.assertAllClose(result["ap@0.5"], (1 / 3 + 0.5) / 2)

    def test_accumulates_and_resets(self):
        truth, detections = hand_scenes()
        metric = DetectionAP3D()
        metric.update_state(truth[:1], detections[:1])
        metric.update_state(truth[1:], detections[1:])
        self.assertAllClose(metric.result()["ap@0.25"], (5 / 9 + 0.5) / 2)
        metric.reset_state()
        perfect = [
            {"boxes": t["boxes"], "scores": np.ones(2), "classes": t["classes"]} for t in truth
        ]
        metric.update_state(truth, perfect)
        self.assertEqual(metric.result(), {"ap@0.25": 1.0, "ap@0.5": 1.0})
        metric.reset_state()
        empty = {"boxes": np.zeros((0, 7)), "scores": np.zeros(0), "classes": np.zeros(0)}
        metric.update_state(truth, [empty, empty])
        self.assertEqual(metric.result(), {"ap@0.25": 0.0, "ap@0.5": 0.0})

    def test_config(self):
        metric = DetectionAP3D((0.3, 0.7))
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(metric)
        )
        self.assertEqual(restored.iou_thresholds, (0.3, 0.7))

    def test_bad_input(self):
        truth, detections = hand_scenes()
        with pytest.raises(ValueError, match="iou_thresholds"):
            DetectionAP3D((0.0,))
        with pytest.raises(ValueError, match="same scenes"):
            DetectionAP3D().update_state(truth, detections[:1])
        bad = dict(detections[0], scores=np.ones(2))
        with pytest.raises(ValueError, match="score"):
            DetectionAP3D().update_state(truth[:1], [bad])
        bad = dict(detections[0], boxes=np.ones((4, 6)))
        with pytest.raises(ValueError, match="y_pred boxes"):
            DetectionAP3D().update_state(truth[:1], [bad])

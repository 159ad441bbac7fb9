import keras
import numpy as np
import pytest

from keras_suite.metrics import InstanceAP3D, average_precision
from keras_suite.metrics.instance_ap_3d import IOU_THRESHOLDS
from keras_suite.testing import TestCase


def reference_ap(scenes, class_ids, thresholds):
    """AP per (threshold, class) by sets of point indices and loops, nothing vectorized."""
    table = {}
    for t in thresholds:
        for c in class_ids:
            detections, num_true = [], 0
            for true_ids, labels, pred_ids, classes, scores in scenes:
                gts = {}
                for i, g in enumerate(true_ids):
                    if labels[i] >= 0 and g >= 0:
                        gts.setdefault(g, set()).add(i)
                gt_sets = []
                for points in gts.values():
                    votes = [int(labels[i]) for i in points]
                    if max(set(votes), key=lambda v: (votes.count(v), -v)) == c:
                        gt_sets.append(points)
                num_true += len(gt_sets)
                preds = []
                for p in range(len(classes)):
                    points = {
                        i for i in range(len(pred_ids)) if pred_ids[i] == p and labels[i] >= 0
                    }
                    if classes[p] == c and points:
                        preds.append((scores[p], p, points))
                preds.sort(key=lambda x: -x[0])
                used = set()
                for score, _, points in preds:
                    best, best_iou = None, -1.0
                    for g, gt in enumerate(gt_sets):
                        if g in used:
                            continue
                        iou = len(points & gt) / len(points | gt)
                        if iou > best_iou:
                            best, best_iou = g, iou
                    hit = best is not None and best_iou >= t
                    if hit:
                        used.add(best)
                    detections.append((score, hit))
            if num_true == 0:
                continue
            detections.sort(key=lambda x: -x[0])
            precisions, recalls, tp = [], [], 0
            for k, (_, hit) in enumerate(detections):
                tp += hit
                precisions.append(tp / (k + 1))
                recalls.append(tp / num_true)
            ap, previous = 0.0, 0.0
            for k in range(len(detections)):
                ap += (recalls[k] - previous) * max(precisions[k:])
                previous = recalls[k]
            table[(t, c)] = ap
    return table


def random_scene(rng, num_points=120, num_classes=4, max_instances=6):
    labels = rng.integers(0, num_classes, num_points)
    true_ids = rng.integers(-1, 5, num_points)
    true_ids[labels == 0] = -1
    labels[-10:] = -1  # padding
    # Predictions: perturbed copies of the ground truth plus noise, so that IoUs spread out.
    pred_ids = np.where(
        rng.uniform(size=num_points) < 0.75, true_ids, rng.integers(-1, 6, num_points)
    )
    pred_ids = np.minimum(pred_ids, max_instances - 1)
    classes = rng.integers(1, num_classes, max_instances)
    classes[rng.uniform(size=max_instances) < 0.15] = -1
    scores = rng.uniform(size=max_instances).round(3)
    return true_ids, labels, pred_ids, classes, scores


class InstanceAP3DTest(TestCase):
    def test_hand_worked_precision_recall(self):
        # 2 ground-truth instances; detections ranked TP, FP, TP: precision 1, 1/2, 2/3 at
        # recall 1/2, 1/2, 1: AP = 1/2 * 1 + 1/2 * 2/3.
        self.assertAlmostEqual(
            average_precision([0.9, 0.8, 0.7], [True, False, True], 2), 0.5 + 1 / 3
        )
        # The envelope: ranked FP, TP, TP -> precision 0, 1/2, 2/3: AP = 2/3 over all recall.
        self.assertAlmostEqual(average_precision([0.9, 0.8, 0.7], [False, True, True], 2), 2 / 3)
        self.assertEqual(average_precision([], [], 3), 0.0)
        self.assertTrue(np.isnan(average_precision([0.5], [False], 0)))

    def test_hand_worked_scene(self):
        metric = InstanceAP3D(num_classes=3, class_ids=[1, 2])
        metric.update_state(
            true_instance_ids=np.array([[0, 0, 0, 0, 1, 1, 2, 2, -1, -1]]),
            true_classes=np.array([[1, 1, 1, 1, 1, 1, 2, 2, 0, -1]]),
            # prediction 0 covers gt 0 exactly (IoU 1), prediction 1 covers gt 1 and two floor
            # points (IoU 2/4), prediction 2 is class 2 but covers gt 2 by half (IoU 1/2),
            # prediction 3 owns no point and is no detection at all.
            pred_instance_ids=np.array([[0, 0, 0, 0, 1, 1, 2, -1, 1, 1]]),
            pred_classes=np.array([[1, 1, 2, 1]]),
            pred_scores=np.array([[0.9, 0.95, 0.5, 0.1]]),
        )
        table = metric.per_class_result()
        # The padding point (label -1) does not count: prediction 1 has 3 points, IoU 2/3.
        # Class 1 at 0.5: ranked pred 1 (TP, 2/3), pred 0 (TP): AP 1.
        self.assertAlmostEqual(table[1, 1], 1.0)
        # At 0.7: pred 1 FP, pred 0 TP: precision 0, 1/2 at recall 0, 1/2: AP 1/4.
        self.assertAlmostEqual(table[IOU_THRESHOLDS.index(0.7), 1], 0.25)
        self.assertAlmostEqual(table[1, 2], 1.0)  # class 2: IoU 1/2 >= 0.5
        self.assertAlmostEqual(table[2, 2], 0.0)  # but not >= 0.55
        self.assertTrue(np.all(np.isnan(table[:, 0])))
        result = metric.result()
        self.assertAlmostEqual(result["ap_50"], 1.0)
        self.assertAlmostEqual(result["ap_25"], 1.0)
        self.assertAlmostEqual(result["ap"], float(np.mean(table[1:, 1:])))

    def test_matches_brute_force_over_scenes(self):
        rng = np.random.default_rng(0)
        scenes = [random_scene(rng) for _ in range(5)]
        metric = InstanceAP3D(num_classes=4, class_ids=[1, 2, 3])
        for first, last in ((0, 2), (2, 5)):
            metric.update_state(*(np.stack(part) for part in zip(*scenes[first:last])))
        expected = reference_ap(scenes, [1, 2, 3], IOU_THRESHOLDS)
        table = metric.per_class_result()
        self.assertGreater(len(expected), 0)
        for (t, c), value in expected.items():
            self.assertAlmostEqual(table[IOU_THRESHOLDS.index(t), c], value, places=9)
        values = [expected[(IOU_THRESHOLDS[1], c)] for c in (1, 2, 3)]
        self.assertAlmostEqual(metric.result()["ap_50"], float(np.mean(values)))
        self.assertTrue(0.0 < metric.result()["ap_25"] <= 1.0)
        metric.reset_state()
        self.assertEqual(metric.result(), {"ap": 0.0, "ap_50": 0.0, "ap_25": 0.0})

    def test_config_round_trip(self):
        metric = InstanceAP3D(num_classes=5, class_ids=[2, 3, 4])
        restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
        self.assertEqual(restored.get_config(), metric.get_config())

    def test_bad_input(self):
        with pytest.raises(ValueError, match="class_ids"):
            InstanceAP3D(num_classes=3, class_ids=[3])
        with pytest.raises(ValueError, match="num_classes"):
            InstanceAP3D(num_classes=0)
        metric = InstanceAP3D(num_classes=3)
        ids = np.zeros((1, 4), "int32")
        with pytest.raises(ValueError, match="share the shape"):
            metric.update_state(ids, ids, ids[:, :3], np.zeros((1, 2), "int32"), np.zeros((1, 2)))
        with pytest.raises(ValueError, match="pred_instance_ids"):
            metric.update_state(ids, ids, ids + 2, np.zeros((1, 2), "int32"), np.zeros((1, 2)))
        with pytest.raises(ValueError, match="true_classes"):
            metric.update_state(ids, ids.astype("float32"), ids, ids[:, :2], np.zeros((1, 2)))

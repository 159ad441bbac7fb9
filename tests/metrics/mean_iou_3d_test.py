import keras
import numpy as np
import pytest

from keras_suite.losses import SemanticCrossEntropy3D
from keras_suite.metrics import MeanIoU3D
from keras_suite.testing import TestCase


def brute_force_miou(labels, predictions, num_classes, ignore):
    keep = labels != ignore
    ious = []
    for c in range(num_classes):
        inter = np.sum((labels == c) & (predictions == c) & keep)
        union = np.sum(((labels == c) | (predictions == c)) & keep)
        if union:
            ious.append(inter / union)
    return np.mean(ious)


class MeanIoU3DTest(TestCase):
    def test_matches_brute_force_over_batches(self):
        rng = np.random.default_rng(0)
        metric = MeanIoU3D(num_classes=4, ignore_label=-1)
        all_labels, all_predictions = [], []
        for _ in range(3):
            labels = rng.integers(-1, 4, (2, 30))
            logits = rng.normal(size=(2, 30, 4)).astype("float32")
            metric.update_state(labels, logits)
            all_labels.append(labels)
            all_predictions.append(logits.argmax(-1))
        expected = brute_force_miou(
            np.concatenate(all_labels), np.concatenate(all_predictions), 4, -1
        )
        self.assertAllClose(metric.result(), expected, atol=1e-6)
        metric.reset_state()
        metric.update_state(np.array([[0, 0, 1, -1]]), np.array([[0, 1, 1, 0]]))
        self.assertAllClose(metric.result(), 0.5)

    def test_in_compiled_evaluate(self):
        rng = np.random.default_rng(1)
        labels = rng.integers(-1, 3, (4, 20))
        logits = rng.normal(size=(4, 20, 3)).astype("float32")
        model = keras.Sequential([keras.Input((20, 3)), keras.layers.Identity()])
        model.compile(loss=SemanticCrossEntropy3D(), metrics=[MeanIoU3D(3)])
        result = model.evaluate(logits, labels, batch_size=2, verbose=0, return_dict=True)
        expected = brute_force_miou(labels, logits.argmax(-1), 3, -1)
        self.assertAllClose(result["mean_iou_3d"], expected, atol=1e-6)

    def test_config_and_bad_arguments(self):
        metric = MeanIoU3D(num_classes=3, ignore_label=7)
        restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
        self.assertEqual((restored.num_classes, restored.ignore_label), (3, 7))
        with pytest.raises(ValueError, match="num_classes"):
            MeanIoU3D(num_classes=0)

import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.losses import DynamicBoxClassificationLoss3D
from keras_suite.testing import TestCase
from keras_suite.testing.test_case import value_and_gradients

BOX = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]


def log_softmax(logits):
    logits = np.asarray(logits, "float64")
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


class DynamicBoxClassificationLoss3DTest(TestCase):
    def test_hand_worked(self):
        loss = DynamicBoxClassificationLoss3D(iou_threshold=0.5)
        near = [0.2, 0, 0, 1, 1, 1, 0]  # IoU 0.8 / 1.2 = 0.67: a positive
        far = [0.6, 0, 0, 1, 1, 1, 0]  # IoU 0.4 / 1.6 = 0.25: a negative
        logits = np.array([[0.5, 1.0, -1.0], [0.0, 2.0, 0.0], [1.0, 0.0, 3.0], [4.0, 4.0, 4.0]])
        y_true = np.array([BOX + [1], BOX + [1], BOX + [0], BOX + [-1]], "float32")
        y_pred = np.concatenate(
            [np.array([near, far, far, near], "float32"), logits.astype("float32")], 1
        )
        # Targets: class 1 (good box), background (bad box), background, ignored.
        expected = (
            -(log_softmax(logits[0])[1] + log_softmax(logits[1])[0] + log_softmax(logits[2])[0]) / 3
        )
        self.assertAllClose(loss(y_true, y_pred), expected, atol=1e-5)
        # A lower threshold makes the far box a positive too.
        loose = DynamicBoxClassificationLoss3D(iou_threshold=0.2)
        expected = (
            -(log_softmax(logits[0])[1] + log_softmax(logits[1])[1] + log_softmax(logits[2])[0]) / 3
        )
        self.assertAllClose(loose(y_true, y_pred), expected, atol=1e-5)

    def test_no_gradient_through_boxes(self):
        loss = DynamicBoxClassificationLoss3D()
        y_true = np.array([BOX + [2.0]], "float32")
        y_pred = np.array([[0.1, 0, 0, 1, 1, 1, 0, 0.0, 1.0, 2.0]], "float32")
        _, (gradient,) = value_and_gradients(lambda p: loss(y_true, p), [y_pred])
        gradient = ops.convert_to_numpy(gradient)
        self.assertAllClose(gradient[0, :7], np.zeros(7))
        probabilities = np.exp(log_softmax([0.0, 1.0, 2.0]))
        self.assertAllClose(gradient[0, 7:], probabilities - [0, 0, 1], atol=1e-6)

    def test_all_ignored_and_config(self):
        loss = DynamicBoxClassificationLoss3D(iou_threshold=0.3, ignore_label=-1)
        value = loss(np.array([BOX + [-1]]), np.array([BOX + [1.0, 2.0]]))
        self.assertAllClose(value, 0.0)
        restored = DynamicBoxClassificationLoss3D.from_config(loss.get_config())
        self.assertEqual(restored.iou_threshold, 0.3)
        serialized = keras.saving.serialize_keras_object(loss)
        self.assertIsInstance(
            keras.saving.deserialize_keras_object(serialized), DynamicBoxClassificationLoss3D
        )

    def test_bad_input(self):
        with pytest.raises(ValueError, match="iou_threshold"):
            DynamicBoxClassificationLoss3D(iou_threshold=0.0)
        with pytest.raises(ValueError, match="y_true"):
            DynamicBoxClassificationLoss3D()(np.zeros((2, 7)), np.zeros((2, 10)))

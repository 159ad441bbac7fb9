import keras
import numpy as np

from keras_suite.losses import SemanticCrossEntropy3D
from keras_suite.testing import TestCase


class SemanticCrossEntropy3DTest(TestCase):
    def test_matches_hand_computation_and_ignores_labels(self):
        logits = np.array([[[0.0, 2.0], [5.0, 0.0]], [[1.0, 1.0], [3.0, -3.0]]], "float32")
        labels = np.array([[1, -1], [0, 0]])
        expected = np.mean([np.log1p(np.exp(-2.0)), np.log(2.0), np.log1p(np.exp(-6.0))])
        loss = SemanticCrossEntropy3D(ignore_label=-1)
        self.assertAllClose(loss(labels, logits), expected, atol=1e-6)
        self.assertAllClose(loss(-np.ones((2, 2)), logits), 0.0)

    def test_config_round_trip(self):
        loss = SemanticCrossEntropy3D(ignore_label=255)
        restored = keras.losses.deserialize(keras.losses.serialize(loss))
        self.assertEqual(restored.ignore_label, 255)

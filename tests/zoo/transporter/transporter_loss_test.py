import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.testing import TestCase
from keras_suite.testing.test_case import value_and_gradients
from keras_suite.zoo.transporter.transporter_loss import pixel_rotation_cross_entropy


def _reference(logits, pixels, bins):
    losses = []
    for b in range(len(logits)):
        flat = logits[b].astype(np.float64).ravel()
        log_softmax = flat - np.log(np.sum(np.exp(flat - flat.max()))) - flat.max()
        losses.append(-log_softmax.reshape(logits[b].shape)[pixels[b][0], pixels[b][1], bins[b]])
    return np.mean(losses)


class PixelRotationCrossEntropyTest(TestCase):
    def test_matches_a_log_softmax_over_the_whole_map(self):
        rng = np.random.default_rng(0)
        logits = rng.normal(size=(3, 7, 5, 4)).astype("float32") * 5
        pixels = np.array([[0, 0], [6, 4], [3, 2]])
        bins = np.array([3, 0, 2])
        loss = pixel_rotation_cross_entropy(logits, pixels, bins)
        self.assertAllClose(loss, _reference(logits, pixels, bins), atol=1e-5, rtol=1e-5)

    def test_uniform_logits_give_the_log_of_the_map_size(self):
        loss = pixel_rotation_cross_entropy(np.zeros((2, 4, 4, 2)), [[1, 2], [3, 3]], [1, 0])
        self.assertAllClose(loss, np.log(32.0), atol=1e-6)
        self.assertAllClose(
            pixel_rotation_cross_entropy(np.zeros((1, 4, 4, 1)), [[1, 2]]), np.log(16.0)
        )

    def test_gradient_is_softmax_minus_one_hot(self):
        logits = np.random.default_rng(1).normal(size=(1, 3, 3, 2)).astype("float32")
        _, (grad,) = value_and_gradients(
            lambda x: pixel_rotation_cross_entropy(x, [[2, 1]], [1]), [logits]
        )
        grad = ops.convert_to_numpy(grad).ravel()
        flat = logits.ravel()
        expected = np.exp(flat) / np.exp(flat).sum()
        expected[(2 * 3 + 1) * 2 + 1] -= 1.0
        self.assertAllClose(grad, expected, atol=1e-6)

    def test_float16_logits_are_computed_in_float32(self):
        loss = pixel_rotation_cross_entropy(np.full((1, 100, 100, 8), 3.0, "float16"), [[0, 0]])
        self.assertEqual(keras.backend.standardize_dtype(loss.dtype), "float32")
        self.assertAllClose(loss, np.log(80000.0), atol=1e-4)

    def test_bad_logits_raise_a_clear_error(self):
        with pytest.raises(ValueError, match="`logits` must have shape"):
            pixel_rotation_cross_entropy(np.zeros((4, 4, 2)), [[1, 1]])

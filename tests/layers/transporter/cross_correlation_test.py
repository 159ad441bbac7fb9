import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.layers.transporter.cross_correlation import cross_correlate
from keras_suite.testing import TestCase


def _brute_force(features, kernels):
    batch, height, width, _ = features.shape
    _, num_kernels, kh, kw, _ = kernels.shape
    out = np.zeros((batch, height - kh + 1, width - kw + 1, num_kernels))
    for b in range(batch):
        for i in range(height - kh + 1):
            for j in range(width - kw + 1):
                window = features[b, i : i + kh, j : j + kw]
                for r in range(num_kernels):
                    out[b, i, j, r] = np.sum(window * kernels[b, r])
    return out


class CrossCorrelationTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.features = rng.normal(size=(2, 13, 10, 3)).astype("float32")
        self.kernels = rng.normal(size=(2, 4, 6, 5, 3)).astype("float32")

    def test_fft_matches_a_brute_force_loop(self):
        out = cross_correlate(self.features, self.kernels, method="fft")
        self.assertAllClose(out, _brute_force(self.features, self.kernels), atol=1e-4, rtol=1e-4)

    def test_direct_matches_a_brute_force_loop(self):
        out = cross_correlate(self.features, self.kernels, method="direct")
        self.assertAllClose(out, _brute_force(self.features, self.kernels), atol=1e-4, rtol=1e-4)

    @pytest.mark.tensorflow_only
    def test_fft_and_direct_have_the_same_gradients(self):
        weights = np.random.default_rng(1).normal(size=(2, 8, 6, 4)).astype("float32")
        grads = {}
        for method in ["fft", "direct"]:
            features = tf.Variable(self.features)
            kernels = tf.Variable(self.kernels)
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(cross_correlate(features, kernels, method) * weights)
            grads[method] = tape.gradient(loss, [features, kernels])
        self.assertAllClose(grads["fft"], grads["direct"], atol=1e-3, rtol=1e-3)
        # d loss / d kernels[b, r, a, c, d] = sum_ij weights[b, i, j, r] features[b, i+a, j+c, d]
        expected = np.zeros(self.kernels.shape)
        for a in range(6):
            for c in range(5):
                window = self.features[:, a : a + 8, c : c + 6, :]
                expected[:, :, a, c, :] = np.einsum("bijr,bijd->brd", weights, window)
        self.assertAllClose(grads["fft"][1], expected, atol=1e-3, rtol=1e-3)

    def test_float16_inputs_give_float16_outputs(self):
        out = cross_correlate(self.features.astype("float16"), self.kernels.astype("float16"))
        self.assertEqual(keras.backend.standardize_dtype(out.dtype), "float16")
        self.assertAllClose(out, _brute_force(self.features, self.kernels), atol=0.1, rtol=0.05)

    def test_bad_inputs_raise_clear_errors(self):
        with pytest.raises(ValueError, match="`method` must be one of"):
            cross_correlate(self.features, self.kernels, method="winograd")
        with pytest.raises(ValueError, match="Received: features.shape"):
            cross_correlate(self.features[0], self.kernels)
        with pytest.raises(ValueError, match="no larger than the feature map"):
            cross_correlate(self.features[:, :4], self.kernels)

import keras
import numpy as np
from keras import ops

from keras_suite.layers import SparseBatchNormalization
from keras_suite.testing import TestCase


class SparseBatchNormalizationTest(TestCase):
    def test_layer_basics(self):
        features = np.random.default_rng(0).normal(size=(2, 10, 3)).astype("float32")
        self.run_layer_test(
            SparseBatchNormalization,
            init_kwargs={"momentum": 0.9},
            input_data=(features, np.array([10, 4], "int32")),
            expected_output_shape=(2, 10, 3),
            expected_num_trainable_weights=2,
            expected_num_non_trainable_weights=2,
        )

    def test_matches_dense_batch_norm_on_valid_rows(self):
        rng = np.random.default_rng(1)
        features = rng.normal(2.0, 3.0, size=(2, 10, 3)).astype("float32")
        features[1, 4:] = 1000.0  # padding garbage must not move the statistics
        num_valid = np.array([10, 4], "int32")
        valid_rows = np.concatenate([features[0], features[1, :4]])
        mine = SparseBatchNormalization(momentum=0.5)
        dense = keras.layers.BatchNormalization(momentum=0.5)
        out = ops.convert_to_numpy(mine(features, num_valid, training=True))
        ref = ops.convert_to_numpy(dense(valid_rows, training=True))
        self.assertAllClose(np.concatenate([out[0], out[1, :4]]), ref, atol=1e-5)
        self.assertTrue(np.all(out[1, 4:] == 0))
        self.assertAllClose(mine.moving_mean, dense.moving_mean, atol=1e-5)
        self.assertAllClose(mine.moving_variance, dense.moving_variance, atol=1e-4, rtol=1e-5)
        inference = ops.convert_to_numpy(mine(features, num_valid, training=False))
        self.assertAllClose(inference[0], dense(features[0], training=False), atol=1e-5)

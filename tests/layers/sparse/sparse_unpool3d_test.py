import keras
import numpy as np
from keras import ops

from keras_suite.layers import SparseMaxPool3D, SparseUnpool3D
from keras_suite.testing import TestCase


class SparseUnpool3DTest(TestCase):
    def test_layer_basics(self):
        pooled = np.arange(6, dtype="float32").reshape(1, 3, 2)
        parent = np.array([[0, 0, 2, 1, -1]], "int32")
        expected = np.array([[[0, 1], [0, 1], [4, 5], [2, 3], [0, 0]]], "float32")
        self.run_layer_test(
            SparseUnpool3D,
            init_kwargs={},
            input_data=(pooled, parent),
            expected_output_shape=(1, 5, 2),
            expected_output=expected,
        )

    def test_unpool_after_pool_in_a_model(self):
        rng = np.random.default_rng(0)
        xyz = np.stack(np.unravel_index(rng.choice(216, 30, replace=False), (6, 6, 6)), -1)
        xyz = xyz[None].astype("int32")
        features = rng.normal(size=(1, 30, 2)).astype("float32")
        num_valid = np.array([25], "int32")
        f_in = keras.Input((30, 2))
        xyz_in = keras.Input((30, 3), dtype="int32")
        n_in = keras.Input((), dtype="int32")
        pooled, _, _, parent = SparseMaxPool3D()(f_in, xyz_in, n_in)
        model = keras.Model([f_in, xyz_in, n_in], SparseUnpool3D()(pooled, parent))
        out = ops.convert_to_numpy(model([features, xyz, num_valid]))
        for i in range(30):
            if i >= 25:
                self.assertTrue(np.all(out[0, i] == 0))
                continue
            siblings = [j for j in range(25) if tuple(xyz[0, j] // 2) == tuple(xyz[0, i] // 2)]
            self.assertAllClose(out[0, i], features[0, siblings].max(axis=0))

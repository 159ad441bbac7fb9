import keras
import numpy as np

from keras_suite.layers import MLPEncoder
from keras_suite.testing import TestCase


class MLPEncoderTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            MLPEncoder,
            init_kwargs={"units": 8, "num_layers": 2},
            input_data=np.ones((2, 4, 5), "float32"),
            expected_output_shape=(2, 4, 8),
            expected_num_trainable_weights=4,
        )

    def test_matches_numpy_dense_stack(self):
        x = np.random.default_rng(0).normal(size=(3, 2, 5)).astype("float32")
        encoder = MLPEncoder(units=6, num_layers=3)
        out = encoder(x)
        h = x
        for layer in encoder.dense:
            z = h @ np.asarray(layer.kernel) + np.asarray(layer.bias)
            h = np.where(z > 0, z, np.expm1(z))
        self.assertEqual(tuple(out.shape), (3, 2, 6))
        self.assertAllClose(out, h, atol=1e-5)

    def test_saving_and_fit(self):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((5,))
        embed = MLPEncoder(units=16, num_layers=2)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(embed))
        x = np.random.default_rng(1).normal(size=(64, 5)).astype("float32")
        self.run_model_saving_test(model, x)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        self.run_fit_smoke_test(model, x, x.sum(-1, keepdims=True), epochs=3, batch_size=16)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "num_layers"):
            MLPEncoder(num_layers=0)
        with self.assertRaisesRegex(ValueError, "units"):
            MLPEncoder(units=-1)

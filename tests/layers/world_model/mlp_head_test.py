import keras
import numpy as np

from keras_suite.layers import LayerNormGRUCell, MLPHead
from keras_suite.testing import TestCase


class MLPHeadTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            MLPHead,
            init_kwargs={"output_size": 3, "units": 8, "num_layers": 2},
            input_data=np.ones((2, 4, 5), "float32"),
            expected_output_shape=(2, 4, 3),
            expected_num_trainable_weights=6,
        )

    def test_matches_numpy_dense_stack(self):
        x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
        head = MLPHead(None, units=6, num_layers=2)
        out = head(x)
        h = x
        for layer in head.hidden:
            z = h @ np.asarray(layer.kernel) + np.asarray(layer.bias)
            h = np.where(z > 0, z, np.expm1(z))
        ref = (h @ np.asarray(head.out.kernel) + np.asarray(head.out.bias))[:, 0]
        self.assertEqual(tuple(out.shape), (3,))
        self.assertAllClose(out, ref, atol=1e-5)

    def test_saving_and_fit(self):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((5,))
        model = keras.Model(inputs, MLPHead(None, units=16, num_layers=2)(inputs))
        x = np.random.default_rng(1).normal(size=(64, 5)).astype("float32")
        self.run_model_saving_test(model, x)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        self.run_fit_smoke_test(model, x, x.sum(-1), epochs=3, batch_size=16)

    def test_bad_output_size(self):
        with self.assertRaisesRegex(ValueError, "output_size"):
            MLPHead(output_size=0)


class LayerNormGRUCellTest(TestCase):
    def test_matches_numpy_reference(self):
        rng = np.random.default_rng(0)
        x, h = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(2, 4)).astype("float32")
        cell = LayerNormGRUCell(4)
        out = cell(x, h)
        parts = np.concatenate([x, h], -1) @ np.asarray(cell.projection.kernel)
        mean, var = parts.mean(-1, keepdims=True), parts.var(-1, keepdims=True)
        parts = (parts - mean) / np.sqrt(var + 1e-3) * np.asarray(cell.norm.gamma)
        parts = parts + np.asarray(cell.norm.beta)
        reset, cand, update = np.split(parts, 3, -1)
        sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
        cand = np.tanh(sigmoid(reset) * cand)
        update = sigmoid(update - 1)
        self.assertAllClose(out, update * cand + (1 - update) * h, atol=1e-5)
        self.assertEqual(cell.get_config()["units"], 4)

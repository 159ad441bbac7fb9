import keras
import numpy as np
import pytest

from keras_suite.testing.test_case import TestCase
from keras_suite.tuner import WeightedAverage


class WeightedAverageTest(TestCase):
    def test_layer_basics(self):
        a = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
        b = np.random.default_rng(1).normal(size=(2, 3)).astype("float32")
        self.run_layer_test(
            WeightedAverage,
            init_kwargs={},
            input_data=([a, b],),
            expected_output_shape=(2, 3),
            expected_num_trainable_weights=1,
            expected_output=(a + b) / 2,
        )

    def test_softmax_weights_against_hand_computation(self):
        layer = WeightedAverage()
        x = [np.full((1, 2), v, "float32") for v in (1.0, 2.0, 4.0)]
        layer(x)
        layer.logits.assign([1.0, 2.0, 3.0])
        weights = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
        self.assertAllClose(
            layer(x), np.full((1, 2), weights @ np.array([1.0, 2.0, 4.0])), atol=1e-6
        )

    def test_fit_and_saving(self):
        inputs = [keras.Input((3,)), keras.Input((3,))]
        model = keras.Model(inputs, WeightedAverage()(inputs))
        x = [np.zeros((8, 3), "float32"), np.ones((8, 3), "float32")]
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
        self.run_fit_smoke_test(model, x, np.ones((8, 3), "float32"), epochs=3)
        self.run_model_saving_test(model, x)

    def test_bad_input(self):
        with pytest.raises(ValueError, match="at least two"):
            WeightedAverage().build([(None, 3)])
        with pytest.raises(ValueError, match="same shape"):
            WeightedAverage().build([(None, 3), (None, 4)])

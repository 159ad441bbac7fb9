import keras
import numpy as np

from keras_suite.testing import TestCase


class TestCaseTest(TestCase):
    def test_run_layer_test_checks_a_dense_layer(self):
        x = np.arange(8, dtype="float32").reshape(2, 4)
        self.run_layer_test(
            keras.layers.Dense,
            init_kwargs={"units": 3, "kernel_initializer": "ones", "bias_initializer": "zeros"},
            input_data=x,
            expected_output_shape=(2, 3),
            expected_num_trainable_weights=2,
            expected_num_non_trainable_weights=0,
            expected_output=np.repeat(x.sum(axis=1, keepdims=True), 3, axis=1),
        )

    def test_run_layer_test_fails_on_a_wrong_shape_or_value(self):
        x = np.ones((2, 4), "float32")
        with self.assertRaises(AssertionError):
            self.run_layer_test(keras.layers.Dense, {"units": 3}, x, expected_output_shape=(2, 4))
        with self.assertRaises(AssertionError):
            self.run_layer_test(
                keras.layers.Dense,
                {"units": 3, "kernel_initializer": "ones"},
                x,
                expected_output_shape=(2, 3),
                expected_output=np.zeros((2, 3)),
            )

    def test_run_layer_test_accepts_positional_inputs(self):
        self.run_layer_test(
            keras.layers.Add,
            init_kwargs={},
            input_data=([np.ones((2, 3)), np.ones((2, 3))],),
            expected_output_shape=(2, 3),
            expected_output=2 * np.ones((2, 3)),
            run_mixed_precision_check=False,
        )

    def test_saving_and_fit_helpers(self):
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
        y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")
        self.run_model_saving_test(model, x)
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        history = self.run_fit_smoke_test(model, x, y, epochs=5, batch_size=16, min_decrease=0.5)
        self.assertLen(history.history["loss"], 5)

    def test_fit_helper_fails_when_the_loss_does_not_fall(self):
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
        x = np.ones((8, 4), "float32")
        with self.assertRaisesRegex(AssertionError, "did not fall"):
            self.run_fit_smoke_test(model, x, x[:, :1] * 5, epochs=2)

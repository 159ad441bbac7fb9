"""Shared checks that every keras-suite layer and model runs, in the spirit of KerasHub's."""

import os
import tempfile
import unittest

import keras
import numpy as np
from keras import ops


class TestCase(unittest.TestCase):
    """`unittest.TestCase` with the standard checks for keras-suite layers and models.

    Example:

    ```python
    class MyLayerTest(TestCase):
        def test_layer_basics(self):
            self.run_layer_test(
                keras.layers.Dense,
                init_kwargs={"units": 3},
                input_data=np.ones((2, 4), "float32"),
                expected_output_shape=(2, 3),
                expected_num_trainable_weights=2,
            )
    ```
    """

    def setUp(self):
        super().setUp()
        keras.config.set_dtype_policy("float32")
        keras.utils.clear_session()

    def tearDown(self):
        keras.config.set_dtype_policy("float32")
        super().tearDown()

    def get_temp_dir(self):
        """A fresh temporary folder removed after the test."""
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        return folder.name

    def assertAllClose(self, actual, expected, atol=1e-6, rtol=1e-6, msg=None):
        """Asserts that two nested structures of arrays are elementwise close."""
        actual_flat = keras.tree.flatten(actual)
        expected_flat = keras.tree.flatten(expected)
        self.assertEqual(len(actual_flat), len(expected_flat), msg)
        for a, e in zip(actual_flat, expected_flat):
            np.testing.assert_allclose(
                _to_numpy(a), _to_numpy(e), atol=atol, rtol=rtol, err_msg=msg or ""
            )

    def assertAllEqual(self, actual, expected, msg=None):
        """Asserts that two nested structures of arrays are exactly equal."""
        actual_flat = keras.tree.flatten(actual)
        expected_flat = keras.tree.flatten(expected)
        self.assertEqual(len(actual_flat), len(expected_flat), msg)
        for a, e in zip(actual_flat, expected_flat):
            np.testing.assert_array_equal(_to_numpy(a), _to_numpy(e), err_msg=msg or "")

    def run_layer_test(
        self,
        layer_cls,
        init_kwargs,
        input_data,
        expected_output_shape,
        expected_num_trainable_weights=None,
        expected_num_non_trainable_weights=None,
        expected_output=None,
        call_kwargs=None,
        run_mixed_precision_check=True,
        atol=1e-6,
    ):
        """Calls a layer and checks its output, weights, config round trip and dtypes.

        Args:
            layer_cls: the layer class.
            init_kwargs: dict of constructor arguments.
            input_data: the call's input: one array, a tuple of positional arrays, or a dict
                of keyword arrays.
            expected_output_shape: the output shape, or a nested structure of shapes matching
                the output structure.
            expected_num_trainable_weights: number of trainable weights once built.
            expected_num_non_trainable_weights: number of non-trainable weights once built.
            expected_output: optional reference output to compare with.
            call_kwargs: extra keyword arguments for the call (e.g. `training`).
            run_mixed_precision_check: whether to check that a `"mixed_float16"` layer keeps
                float32 variables and computes floating outputs in float16.
            atol: tolerance for output comparisons.
        """
        call_kwargs = call_kwargs or {}
        layer = layer_cls(**init_kwargs)
        output = _call(layer, input_data, call_kwargs)

        actual_shapes = keras.tree.map_structure(lambda x: tuple(ops.shape(x)), output)
        expected_shapes = keras.tree.map_shape_structure(tuple, expected_output_shape)
        self.assertEqual(actual_shapes, expected_shapes, "output shape")
        if expected_num_trainable_weights is not None:
            self.assertLen(layer.trainable_weights, expected_num_trainable_weights)
        if expected_num_non_trainable_weights is not None:
            self.assertLen(layer.non_trainable_weights, expected_num_non_trainable_weights)
        if expected_output is not None:
            self.assertAllClose(output, expected_output, atol=atol, rtol=atol)

        config = layer.get_config()
        restored = layer_cls.from_config(config)
        self.assertEqual(restored.get_config(), config, "get_config/from_config round trip")
        _call(restored, input_data, call_kwargs)
        restored.set_weights(layer.get_weights())
        self.assertAllClose(_call(restored, input_data, call_kwargs), output, atol=atol, rtol=atol)

        if run_mixed_precision_check:
            mixed = layer_cls(**dict(init_kwargs, dtype="mixed_float16"))
            mixed_output = _call(mixed, input_data, call_kwargs)
            for variable in mixed.weights:
                dtype = keras.backend.standardize_dtype(variable.dtype)
                if "float" in dtype:
                    self.assertEqual(dtype, "float32", variable.path)
            for tensor in keras.tree.flatten(mixed_output):
                dtype = keras.backend.standardize_dtype(tensor.dtype)
                if "float" in dtype:
                    self.assertEqual(dtype, "float16", "mixed precision output")

    def assertLen(self, container, length):
        self.assertEqual(len(container), length, f"expected length {length}: {container}")

    def run_model_saving_test(self, model, input_data, atol=1e-6):
        """Saves `model` as `.keras`, loads it back and checks that outputs are equal."""
        expected = _call(model, input_data, {})
        path = os.path.join(self.get_temp_dir(), "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        self.assertIs(type(restored), type(model))
        self.assertAllClose(_call(restored, input_data, {}), expected, atol=atol, rtol=atol)
        return restored

    def run_fit_smoke_test(self, model, x, y=None, epochs=3, batch_size=None, min_decrease=0.0):
        """Fits a compiled `model` for a few epochs and checks that the training loss fell.

        Before a graph-mode fit, the model, its compiled loss and metrics and its optimizer are
        built eagerly on the first batch (as Keras does itself under a distribution strategy): a
        `tf.function` whose first trace creates variables is traced a second time, and tracing
        the train step is most of a small fit's cost.

        Args:
            model: a compiled model.
            x: inputs (or a `tf.data.Dataset` yielding `(x, y)`).
            y: targets, unless `x` is a dataset.
            epochs: epochs to train.
            batch_size: batch size when `x` is an array.
            min_decrease: the fraction by which the last epoch's loss must undercut the first's.

        Returns:
            The `History` of the fit.
        """
        if not model.run_eagerly:
            _build_for_fit(model, x, y, batch_size)
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
        losses = history.history["loss"]
        self.assertTrue(np.all(np.isfinite(losses)), f"non-finite losses: {losses}")
        self.assertLess(
            losses[-1], losses[0] * (1.0 - min_decrease), f"the loss did not fall: {losses}"
        )
        return history


def value_and_gradients(fn, args):
    """`fn(*args)` (a scalar) and its gradients with respect to every arg, on any backend.

    Args:
        fn: a function of tensors returning a scalar tensor, written with `keras.ops`.
        args: a list of arrays or tensors.

    Returns:
        A tuple `(value, gradients)`: the scalar and a list with one gradient per arg.

    Example:

    ```python
    value, (gradient,) = value_and_gradients(lambda x: ops.sum(x * x), [np.ones(3, "float32")])
    ```
    """
    backend = keras.config.backend()
    if backend == "jax":
        import jax

        return jax.value_and_grad(lambda values: fn(*values))(list(args))
    if backend == "torch":
        tensors = [ops.convert_to_tensor(a).detach().requires_grad_(True) for a in args]
        value = fn(*tensors)
        value.backward()
        return value.detach(), [t.grad for t in tensors]
    import tensorflow as tf

    tensors = [tf.convert_to_tensor(a) for a in args]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        value = fn(*tensors)
    return value, tape.gradient(value, tensors)


def _build_for_fit(model, x, y, batch_size):
    if hasattr(x, "element_spec"):  # a `tf.data.Dataset`
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(next(iter(x.take(1))))
    else:
        rows = batch_size or 32
        x, y = keras.tree.map_structure(lambda array: array[:rows], (x, y))
        sample_weight = None
    y_pred = model(x)
    model.compute_loss(x, y, y_pred, sample_weight)
    model.compute_metrics(x, y, y_pred, sample_weight)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def _call(layer, input_data, call_kwargs):
    if isinstance(input_data, tuple):
        return layer(*input_data, **call_kwargs)
    if isinstance(input_data, dict):
        return layer(**input_data, **call_kwargs)
    return layer(input_data, **call_kwargs)


def _to_numpy(x):
    return np.asarray(ops.convert_to_numpy(x) if not isinstance(x, np.ndarray) else x)

import keras
import numpy as np
import pytest

from keras_suite.tuner.block_registry import build_tower, registered_blocks, resolve_blocks


def _model(name, width=5):
    inputs = keras.Input((width,))
    return keras.Model(inputs, build_tower(inputs, [name], resolve_blocks([name])))


@pytest.mark.parametrize("name", registered_blocks(2))
def test_tabular_block_smoke(name):
    out = keras.ops.convert_to_numpy(_model(name)(np.ones((2, 5), "float32")))
    assert len(out.shape) == 2 and np.all(np.isfinite(out))


def test_low_rank_dense_is_a_factored_product():
    model = _model("low_rank_dense_64")
    (factor,) = model.get_layer("b0_low_rank_dense_64_factor").get_weights()
    kernel, bias = model.get_layer("b0_low_rank_dense_64_dense").get_weights()
    assert factor.shape == (5, 8)
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x)),
        np.maximum(x @ factor @ kernel + bias, 0),
        rtol=1e-4,
        atol=1e-5,
    )


def test_residual_dense_adds_the_projected_input():
    model = _model("residual_dense_64")
    project_kernel, project_bias = model.get_layer("b0_residual_dense_64_project").get_weights()
    k1, b1 = model.get_layer("b0_residual_dense_64_dense1").get_weights()
    k2, b2 = model.get_layer("b0_residual_dense_64_dense2").get_weights()
    x = np.random.default_rng(1).normal(size=(3, 5)).astype("float32")
    hidden = np.maximum(x @ k1 + b1, 0)
    expected = np.maximum(x @ project_kernel + project_bias + hidden @ k2 + b2, 0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-4, atol=1e-5)

import keras
import numpy as np
import pytest

from keras_suite.tuner.block_registry import build_tower, registered_blocks, resolve_blocks


@pytest.mark.parametrize(
    "name",
    [n for n in registered_blocks() if n in registered_blocks(4) and n not in registered_blocks(3)],
)
def test_image_block_smoke(name):
    specs = resolve_blocks([name])
    inputs = keras.Input((8, 8, 3))
    outputs = build_tower(inputs, [name], specs)
    assert len(outputs.shape) == 4
    model = keras.Model(inputs, outputs)
    out = keras.ops.convert_to_numpy(model(np.ones((2, 8, 8, 3), "float32")))
    assert np.all(np.isfinite(out))


def test_max_pool_block_takes_the_max_of_each_2x2_window():
    specs = resolve_blocks(["max_pool"])
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(inputs, build_tower(inputs, ["max_pool"], specs))
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    expected = x.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, 4).max(-1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x))[0, ..., 0], expected)


def test_resnet_block_is_identity_plus_residual_when_the_residual_is_zero():
    specs = resolve_blocks(["resnet_16"])
    inputs = keras.Input((4, 4, 16))
    model = keras.Model(inputs, build_tower(inputs, ["resnet_16"], specs))
    conv2 = model.get_layer("b0_resnet_16_conv2")
    conv2.set_weights([np.zeros_like(w) for w in conv2.get_weights()])
    x = np.random.default_rng(0).normal(size=(1, 4, 4, 16)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), np.maximum(x, 0), atol=1e-6)

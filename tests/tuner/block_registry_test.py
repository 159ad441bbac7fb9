import keras
import numpy as np
import pytest

from keras_suite.tuner import block_registry
from keras_suite.tuner.block_registry import build_tower, get_block, register_block, resolve_blocks


def test_tower_inserts_transitions_between_ranks():
    specs = resolve_blocks(["conv3x3_16", "conv1d_k3_32", "dense_32"])
    inputs = keras.Input((4, 5, 2))
    outputs = build_tower(inputs, ["conv3x3_16", "conv1d_k3_32", "dense_32"], specs)
    model = keras.Model(inputs, outputs)
    names = [layer.name for layer in model.layers]
    assert "b1_conv1d_k3_32_to_rank3" in names  # image -> sequence: Reshape to (20, 16)
    assert "b2_dense_32_to_rank2" in names  # sequence -> features: Flatten (20 * 32)
    assert model.get_layer("b1_conv1d_k3_32_to_rank3").output.shape == (None, 20, 16)
    assert model.get_layer("b2_dense_32_dense").kernel.shape == (20 * 32, 32)


def test_dense_block_computes_relu_affine():
    specs = resolve_blocks(["dense_32"])
    inputs = keras.Input((3,))
    model = keras.Model(inputs, build_tower(inputs, ["dense_32"], specs))
    kernel, bias = model.get_layer("b0_dense_32_dense").get_weights()
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x)), np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6
    )


def test_block_that_cannot_take_the_rank_is_refused_with_the_shape():
    specs = resolve_blocks(["dense_32", "conv3x3_16"])
    with pytest.raises(
        ValueError, match=r"Block `conv3x3_16` takes inputs of rank \[4\].*\(None, 32\)"
    ):
        build_tower(keras.Input((7,)), ["dense_32", "conv3x3_16"], specs)


def test_unknown_block_names_are_refused():
    with pytest.raises(ValueError, match="Unknown block name.*'conv9x9'"):
        get_block("conv9x9")
    with pytest.raises(ValueError, match="Unknown block name"):
        build_tower(keras.Input((3,)), ["nope"], resolve_blocks(["dense_32"]))
    with pytest.raises(ValueError, match="ranks"):
        register_block("bad_ranks", ranks=(5,))
    with pytest.raises(ValueError, match="block name"):
        register_block("has space")


def test_user_block_by_decorator(monkeypatch):
    monkeypatch.setattr(block_registry, "_REGISTRY", dict(block_registry._REGISTRY))

    @register_block("times_two", ranks=(2,))
    def times_two(x, name):
        return keras.layers.Rescaling(2.0, name=f"{name}_scale")(x)

    specs = resolve_blocks(["times_two"])
    inputs = keras.Input((3,))
    model = keras.Model(inputs, build_tower(inputs, ["times_two"], specs))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(np.ones((1, 3)))), 2 * np.ones((1, 3))
    )
    assert "times_two" in block_registry.registered_blocks(2)


def test_keras_layer_and_model_blocks_are_cloned_with_their_weights():
    dense = keras.layers.Dense(4, name="my_dense")
    dense.build((None, 3))
    inner_in = keras.Input((6, 6, 1))
    known = keras.Model(
        inner_in,
        keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(5, 3)(inner_in)),
        name="known_net",
    )
    specs = resolve_blocks([dense, known])
    assert specs["known_net"].ranks == (4,) and specs["known_net"].output_rank == 2
    assert specs["my_dense"].ranks is None
    inputs = keras.Input((6, 6, 1))
    model = keras.Model(
        inputs,
        build_tower(
            inputs,
            ["known_net", "my_dense"],
            {
                "known_net": specs["known_net"],
                "my_dense": resolve_blocks([keras.layers.Dense(4, name="my_dense")])["my_dense"],
            },
        ),
    )
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 1)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.get_layer("b0_known_net")(x)),
        keras.ops.convert_to_numpy(known(x)),
        rtol=1e-5,
        atol=1e-6,
    )
    inputs = keras.Input((3,))
    model = keras.Model(inputs, build_tower(inputs, ["my_dense"], specs))
    y = np.ones((1, 3), "float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(y)), keras.ops.convert_to_numpy(dense(y)), rtol=1e-6
    )


def test_bad_blocks_argument():
    with pytest.raises(ValueError, match="blocks=\\[\\]"):
        resolve_blocks([])
    with pytest.raises(ValueError, match="registered block name or a Keras layer"):
        resolve_blocks([3])

import keras
import numpy as np
import pytest

from keras_suite.tuner.block_registry import build_tower, registered_blocks, resolve_blocks

SEQUENCE_ONLY = [n for n in registered_blocks(3) if n not in registered_blocks(2)]


@pytest.mark.parametrize("name", SEQUENCE_ONLY)
def test_sequence_block_smoke(name):
    specs = resolve_blocks([name])
    inputs = keras.Input((6, 4))
    outputs = build_tower(inputs, [name], specs)
    assert len(outputs.shape) == 3
    out = keras.ops.convert_to_numpy(keras.Model(inputs, outputs)(np.ones((2, 6, 4), "float32")))
    assert np.all(np.isfinite(out))


def test_conv1d_block_matches_a_direct_convolution():
    specs = resolve_blocks(["conv1d_k3_32"])
    inputs = keras.Input((5, 2))
    model = keras.Model(inputs, build_tower(inputs, ["conv1d_k3_32"], specs))
    kernel, bias = model.get_layer("b0_conv1d_k3_32_conv").get_weights()
    x = np.random.default_rng(0).normal(size=(1, 5, 2)).astype("float32")
    padded = np.pad(x[0], ((1, 1), (0, 0)))
    expected = np.stack(
        [np.einsum("kc,kco->o", padded[t : t + 3], kernel) + bias for t in range(5)]
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x))[0], np.maximum(expected, 0), rtol=1e-4, atol=1e-5
    )


def test_sequence_block_refuses_tabular_input():
    with pytest.raises(ValueError, match=r"lstm_32.*rank \[3\].*Received: shape=\(None, 4\)"):
        build_tower(keras.Input((4,)), ["lstm_32"], resolve_blocks(["lstm_32"]))

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.layers import TransporterResNet
from keras_suite.testing import TestCase

SMALL = (4, 4, 8, 8, 8, 4, 4, 4)


def _reference(weights, x, strides=(1, 2, 2, 2, 1, 1, 1, 1), upsample_after=(4, 5, 6)):
    """The ResNet43_8s wiring, with strided convolutions, from plain Keras ops and `weights`."""
    weights = iter(weights)

    def conv(t, strides=1):
        kernel, bias = next(weights), next(weights)
        padding = "same" if kernel.shape[0] == 3 else "valid"
        return keras.ops.conv(t, kernel, strides=strides, padding=padding) + bias

    def block(t, strides, project, relu):
        y = keras.ops.relu(conv(t, strides))
        y = keras.ops.relu(conv(y))
        y = conv(y)
        y = y + (conv(t, strides) if project else t)
        return keras.ops.relu(y) if relu else y

    y = keras.ops.relu(conv(x))
    for stage, stride in enumerate(strides):
        relu = stage < 7
        y = block(y, stride, True, relu)
        y = block(y, 1, False, relu)
        if stage in upsample_after:
            y = keras.ops.image.resize(y, (y.shape[1] * 2, y.shape[2] * 2), "bilinear")
    return y


class TransporterResNetTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            TransporterResNet,
            init_kwargs={"output_dim": 3, "filters": SMALL},
            input_data=np.random.default_rng(0).normal(size=(2, 16, 24, 4)).astype("float32"),
            expected_output_shape=(2, 16, 24, 3),
            expected_num_trainable_weights=114,
            atol=1e-5,
        )

    def test_matches_the_reference_wiring(self):
        net = TransporterResNet(2, SMALL)
        x = np.random.default_rng(1).normal(size=(2, 16, 24, 4)).astype("float32")
        self.assertAllClose(net(x), _reference(net.get_weights(), x), atol=1e-5, rtol=1e-5)

    def test_downsampling_four_halves_twice_and_upsamples_after_stages_six_and_seven(self):
        net = TransporterResNet(2, SMALL, downsampling=4)
        x = np.random.default_rng(3).normal(size=(2, 12, 20, 4)).astype("float32")
        output = net(x)
        reference = _reference(net.get_weights(), x, (1, 2, 2, 1, 1, 1, 1, 1), (5, 6))
        self.assertAllClose(output, reference, atol=1e-5, rtol=1e-5)
        # The same weights as the default network: only the strides and upsamplings move.
        default = TransporterResNet(2, SMALL)
        default.build((None, None, None, 4))
        self.assertEqual(net.count_params(), default.count_params())
        restored = TransporterResNet.from_config(net.get_config())
        self.assertEqual(restored.downsampling, 4)

    @pytest.mark.tensorflow_only  # TensorFlow's oneDNN kernels are what the test guards.
    def test_gradients_with_four_channel_stages_match_the_reference_in_a_subprocess(self):
        # Gradients through strided 1x1 convolutions of fewer than 16 channels crashed Python
        # natively (TensorFlow's oneDNN backprop kernels), so they run in a child process.
        path = self.get_temp_dir() + "/gradients.npz"
        code = f"""
import numpy as np
import tensorflow as tf
from keras_suite.layers import TransporterResNet

rng = np.random.default_rng(4)
net = TransporterResNet(2, (4,) * 8)
x = tf.constant(rng.normal(size=(1, 80, 40, 4)).astype("float32"))
weights = tf.constant(rng.normal(size=(1, 80, 40, 2)).astype("float32"))
net.build(x.shape)
for _ in range(5):
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(net(x) * weights)
    grads = tape.gradient(loss, [x] + net.trainable_weights)
np.savez({path!r}, x, weights, *net.get_weights(), *grads)
"""
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        arrays = np.load(path)
        arrays = [arrays[f"arr_{i}"].astype("float64") for i in range(len(arrays.files))]
        count = (len(arrays) - 2) // 2
        x, weights = tf.Variable(arrays[0]), arrays[1]
        variables = [tf.Variable(w) for w in arrays[2 : 2 + count]]
        # Float64 convolutions run on TensorFlow's own (Eigen) kernels, not oneDNN's.
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(_reference(variables, x) * weights)
        expected = tape.gradient(loss, [x] + variables)
        for grad, reference in zip(arrays[2 + count :], expected):
            self.assertAllClose(grad, reference, atol=1e-3, rtol=1e-3)

    def test_odd_sizes_are_padded_to_a_multiple_of_eight_and_cropped_back(self):
        net = TransporterResNet(2, SMALL)
        x = np.random.default_rng(2).normal(size=(1, 13, 21, 4)).astype("float32")
        padded = np.pad(x, ((0, 0), (0, 3), (0, 3), (0, 0)))
        self.assertAllClose(net(x), net(padded)[:, :13, :21], atol=1e-5, rtol=1e-5)

    def test_paper_configuration_size(self):
        net = TransporterResNet(1)
        net.build((None, None, None, 4))
        # Counted by hand from the paper's stage widths: ~9.8M parameters per network.
        self.assertEqual(net.count_params(), 9832051)

    def test_bad_arguments_raise_clear_errors(self):
        with pytest.raises(ValueError, match="`filters` must be 8 positive stage widths"):
            TransporterResNet(1, filters=(8, 8))
        with pytest.raises(ValueError, match="`output_dim` must be a positive int"):
            TransporterResNet(0)
        with pytest.raises(ValueError, match="`downsampling` must be one of"):
            TransporterResNet(1, SMALL, downsampling=3)

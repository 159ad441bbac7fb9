import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_suite.layers import TransporterTransport
from keras_suite.testing import TestCase

SMALL = (4, 4, 8, 8, 8, 4, 4, 4)


def _reference(transport, x, pick_pixels):
    """The transport by hand: crops rotated with np.rot90, correlation by a brute-force loop."""
    crop, half = transport.crop_size, transport.crop_size // 2
    batch, height, width, _ = x.shape
    padded = np.pad(x, ((0, 0), (half, half), (half, half), (0, 0)))
    keys = ops.convert_to_numpy(transport.key_net(padded))
    out = np.zeros((batch, height, width, 4))
    for b in range(batch):
        row, col = pick_pixels[b] + half
        # Turn the odd window centred on the pivot, then keep the crop whose pixel
        # (half, half) is the pivot. A quarter turn counter-clockwise with x = column and
        # y = row is np.rot90(k=-1).
        window = padded[b, row - half : row + half + 1, col - half : col + half + 1]
        crops = np.stack([np.rot90(window, k=-k)[:crop, :crop] for k in range(4)])
        kernels = ops.convert_to_numpy(transport.query_net(crops))
        for i in range(height):
            for j in range(width):
                patch = keys[b, i : i + crop, j : j + crop]
                out[b, i, j] = np.einsum("hwc,khwc->k", patch, kernels)
    return out


class TransporterTransportTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(2, 12, 10, 4)).astype("float32")
        self.pick = np.array([[3, 4], [10, 1]], "int32")

    def test_layer_basics(self):
        self.run_layer_test(
            TransporterTransport,
            init_kwargs={"crop_size": 7, "num_rotations": 3, "output_dim": 2, "filters": SMALL},
            input_data=(self.x, self.pick),
            expected_output_shape=(2, 12, 10, 3),
            expected_num_trainable_weights=228,
            atol=1e-4,
        )

    def test_matches_a_hand_built_reference(self):
        for crop_size in [6, 7]:
            transport = TransporterTransport(crop_size, 4, 3, SMALL)
            out = transport(self.x, self.pick)
            expected = _reference(transport, self.x, self.pick)
            self.assertAllClose(out, expected, atol=1e-3, rtol=1e-3)

    def test_downsampling_reaches_both_networks(self):
        transport = TransporterTransport(7, 4, 3, SMALL, downsampling=4)
        out = transport(self.x, self.pick)
        self.assertEqual((transport.key_net.downsampling, transport.query_net.downsampling), (4, 4))
        self.assertAllClose(out, _reference(transport, self.x, self.pick), atol=1e-3, rtol=1e-3)
        self.assertEqual(TransporterTransport.from_config(transport.get_config()).downsampling, 4)

    @pytest.mark.tensorflow_only
    def test_direct_and_fft_agree_with_gradients(self):
        transport = TransporterTransport(6, 4, 3, SMALL, correlation="fft")
        direct = TransporterTransport(6, 4, 3, SMALL, correlation="direct")
        transport(self.x, self.pick)
        direct(self.x, self.pick)
        direct.set_weights(transport.get_weights())
        weights = np.random.default_rng(1).normal(size=(2, 12, 10, 4)).astype("float32")
        results = []
        for layer in [transport, direct]:
            with tf.GradientTape() as tape:
                out = layer(self.x, self.pick)
                loss = tf.reduce_sum(out * weights)
            results.append((out, tape.gradient(loss, layer.trainable_weights)))
        self.assertAllClose(results[0][0], results[1][0], atol=1e-3, rtol=1e-3)
        self.assertAllClose(results[0][1], results[1][1], atol=1e-2, rtol=1e-3)
        for grad in results[0][1]:
            self.assertTrue(np.all(np.isfinite(grad)))
        self.assertGreater(sum(float(np.abs(g).sum()) for g in results[0][1]), 0.0)

    @pytest.mark.slow
    def test_saving_and_fit(self):
        keras.utils.set_random_seed(0)
        image = keras.Input((12, 10, 4))
        pick = keras.Input((2,), dtype="int32")
        logits = TransporterTransport(6, 4, 2, SMALL)(image, pick)
        model = keras.Model([image, pick], keras.layers.Flatten()(logits))
        self.run_model_saving_test(model, ([self.x, self.pick],), atol=1e-4)
        labels = np.array([17, 401])
        # Plain SGD: a graph of Adam updates for 100+ variables takes far longer to trace.
        model.compile(
            optimizer=keras.optimizers.SGD(0.01, clipnorm=1.0),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        self.run_fit_smoke_test(model, [self.x, self.pick], labels, epochs=4, batch_size=2)

    def test_bad_arguments_raise_clear_errors(self):
        with pytest.raises(ValueError, match="`correlation` must be one of"):
            TransporterTransport(correlation="winograd")
        with pytest.raises(ValueError, match="must be positive ints"):
            TransporterTransport(crop_size=0)

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.layers import ConvDecoder, ConvEncoder
from keras_suite.testing import TestCase


class ConvEncoderTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            ConvEncoder,
            init_kwargs={"depth": 4},
            input_data=np.random.default_rng(0).random((2, 3, 64, 64, 1)).astype("float32"),
            expected_output_shape=(2, 3, 32 * 4),
            expected_num_trainable_weights=8,
        )

    def test_matches_tf_nn_convolutions(self):
        images = np.random.default_rng(1).random((2, 64, 64, 3)).astype("float32") - 0.5
        encoder = ConvEncoder(depth=2)
        output = encoder(images)
        x = tf.constant(images)
        for conv in encoder.convs:
            x = tf.nn.elu(tf.nn.conv2d(x, conv.kernel, 2, "VALID") + conv.bias)
        self.assertEqual(tuple(x.shape), (2, 2, 2, 16))
        self.assertAllClose(output, tf.reshape(x, (2, -1)), atol=1e-5)

    def test_rejects_small_images(self):
        with self.assertRaisesRegex(ValueError, "too small"):
            ConvEncoder(depth=2)(np.zeros((1, 16, 16, 1), "float32"))


class ConvDecoderTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            ConvDecoder,
            init_kwargs={"channels": 3, "depth": 2},
            input_data=np.random.default_rng(0).random((2, 3, 10)).astype("float32"),
            expected_output_shape=(2, 3, 64, 64, 3),
            expected_num_trainable_weights=10,
        )

    def test_matches_tf_nn_transposed_convolutions(self):
        features = np.random.default_rng(2).normal(size=(2, 10)).astype("float32")
        decoder = ConvDecoder(channels=1, depth=2)
        output = decoder(features)
        x = tf.reshape(features @ decoder.dense.kernel + decoder.dense.bias, (2, 1, 1, 64))
        for i, deconv in enumerate(decoder.deconvs):
            size, filters = 2 * x.shape[1] + deconv.kernel_size[0] - 2, deconv.filters
            x = tf.nn.conv2d_transpose(x, deconv.kernel, (2, size, size, filters), 2, "VALID")
            x = x + deconv.bias
            x = tf.nn.elu(x) if i < 3 else x
        self.assertAllClose(output, x, atol=1e-5)

    @pytest.mark.slow
    def test_autoencoder_saving_and_fit(self):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((64, 64, 1))
        outputs = ConvDecoder(1, depth=2)(ConvEncoder(depth=2)(inputs))
        model = keras.Model(inputs, outputs)
        images = np.random.default_rng(3).random((8, 64, 64, 1)).astype("float32")
        self.run_model_saving_test(model, images)
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
        self.run_fit_smoke_test(model, images, images, epochs=3, batch_size=8)

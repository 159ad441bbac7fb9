import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.layers import TransporterAttention
from keras_suite.testing import TestCase

SMALL = (4, 4, 8, 8, 8, 4, 4, 4)


class TransporterAttentionTest(TestCase):
    def setUp(self):
        super().setUp()
        self.x = np.random.default_rng(0).normal(size=(2, 16, 16, 4)).astype("float32")

    def test_layer_basics(self):
        self.run_layer_test(
            TransporterAttention,
            init_kwargs={"num_rotations": 2, "filters": SMALL},
            input_data=self.x,
            expected_output_shape=(2, 16, 16, 2),
            expected_num_trainable_weights=114,
            atol=1e-5,
        )

    def test_one_rotation_is_the_network_itself(self):
        attention = TransporterAttention(1, SMALL)
        self.assertAllClose(attention(self.x), attention.net(self.x), atol=1e-6)

    def test_downsampling_reaches_the_network(self):
        attention = TransporterAttention(1, SMALL, downsampling=2)
        self.assertAllClose(attention(self.x), attention.net(self.x), atol=1e-6)
        self.assertEqual(attention.net.downsampling, 2)
        self.assertEqual(TransporterAttention.from_config(attention.get_config()).downsampling, 2)

    def test_rotations_score_rotated_maps_and_rotate_back(self):
        attention = TransporterAttention(4, SMALL)
        out = ops.convert_to_numpy(attention(self.x))
        for k in range(4):
            # Rotation k turns the map by k quarter turns (clockwise on screen), scores it and
            # turns the scores back.
            rotated = np.rot90(self.x, k=-k, axes=(1, 2)).copy()
            expected = np.rot90(ops.convert_to_numpy(attention.net(rotated)), k=k, axes=(1, 2))
            self.assertAllClose(out[..., k], expected[..., 0], atol=1e-5, rtol=1e-5)

    def test_non_square_maps_are_padded_to_a_square(self):
        attention = TransporterAttention(2, SMALL)
        x = self.x[:, :, :8]
        out = ops.convert_to_numpy(attention(x))
        square = np.pad(x, ((0, 0), (0, 0), (4, 4), (0, 0)))
        self.assertAllClose(
            out[..., 0], ops.convert_to_numpy(attention.net(square))[:, :, 4:12, 0], atol=1e-5
        )
        turned = np.rot90(
            ops.convert_to_numpy(attention.net(np.rot90(square, 2, (1, 2)).copy())), 2, (1, 2)
        )
        self.assertAllClose(out[..., 1], turned[:, :, 4:12, 0], atol=1e-5)

    @pytest.mark.slow
    def test_saving_and_fit(self):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((16, 16, 4))
        logits = TransporterAttention(2, SMALL)(inputs)
        model = keras.Model(inputs, keras.layers.Flatten()(logits))
        self.run_model_saving_test(model, self.x, atol=1e-5)
        labels = np.array([5, 300])
        # Plain SGD: a graph of Adam updates for 100+ variables takes far longer to trace.
        model.compile(
            optimizer=keras.optimizers.SGD(0.1),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        self.run_fit_smoke_test(model, self.x, labels, epochs=4, batch_size=2)

    def test_bad_arguments_raise_clear_errors(self):
        with pytest.raises(ValueError, match="`num_rotations` must be a positive int"):
            TransporterAttention(0)

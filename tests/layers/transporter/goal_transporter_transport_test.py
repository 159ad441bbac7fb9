import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.layers import GoalTransporterTransport
from keras_suite.testing import TestCase

SMALL = (4, 4, 8, 8, 8, 4, 4, 4)


def _reference(transport, x, pick_pixels, goal):
    """The goal-gated transport by hand: np.rot90 crops, a brute-force correlation loop."""
    crop, half = transport.crop_size, transport.crop_size // 2
    batch, height, width, _ = x.shape
    pad = ((0, 0), (half, half), (half, half), (0, 0))
    padded, padded_goal = np.pad(x, pad), np.pad(goal, pad)
    keys = ops.convert_to_numpy(transport.key_net(padded)) * ops.convert_to_numpy(
        transport.goal_net(padded_goal)
    )
    out = np.zeros((batch, height, width, 4))
    for b in range(batch):
        row, col = pick_pixels[b] + half
        window = (b, slice(row - half, row + half + 1), slice(col - half, col + half + 1))
        # A quarter turn counter-clockwise with x = column and y = row is np.rot90(k=-1).
        crops, goal_crops = (
            np.stack([np.rot90(image[window], k=-k)[:crop, :crop] for k in range(4)])
            for image in (padded, padded_goal)
        )
        kernels = ops.convert_to_numpy(transport.query_net(crops)) * ops.convert_to_numpy(
            transport.goal_net(goal_crops)
        )
        for i in range(height):
            for j in range(width):
                patch = keys[b, i : i + crop, j : j + crop]
                out[b, i, j] = np.einsum("hwc,khwc->k", patch, kernels)
    return out


class GoalTransporterTransportTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(2, 12, 10, 4)).astype("float32")
        self.goal = rng.normal(size=(2, 12, 10, 4)).astype("float32")
        self.pick = np.array([[3, 4], [10, 1]], "int32")

    def test_matches_a_hand_built_reference(self):
        for crop_size in [6, 7]:
            transport = GoalTransporterTransport(crop_size, 4, 3, SMALL)
            out = transport(self.x, self.pick, self.goal)
            expected = _reference(transport, self.x, self.pick, self.goal)
            self.assertAllClose(out, expected, atol=1e-3, rtol=1e-3)

    def test_the_goal_changes_the_logits(self):
        transport = GoalTransporterTransport(6, 4, 3, SMALL)
        first = ops.convert_to_numpy(transport(self.x, self.pick, self.goal))
        second = ops.convert_to_numpy(transport(self.x, self.pick, self.goal[::-1]))
        self.assertGreater(np.abs(first - second).max(), 0.1 * np.abs(first).max())

    def test_config_round_trip(self):
        transport = GoalTransporterTransport(6, 4, 2, SMALL, downsampling=4)
        expected = transport(self.x, self.pick, self.goal)
        restored = GoalTransporterTransport.from_config(transport.get_config())
        restored(self.x, self.pick, self.goal)
        restored.set_weights(transport.get_weights())
        self.assertEqual(restored.goal_net.downsampling, 4)
        self.assertAllClose(restored(self.x, self.pick, self.goal), expected, atol=1e-5)

    @pytest.mark.slow
    def test_saving_and_fit(self):
        keras.utils.set_random_seed(0)
        image = keras.Input((12, 10, 4))
        goal = keras.Input((12, 10, 4))
        pick = keras.Input((2,), dtype="int32")
        logits = GoalTransporterTransport(6, 4, 2, SMALL)(image, pick, goal)
        model = keras.Model([image, pick, goal], keras.layers.Flatten()(logits))
        inputs = [self.x, self.pick, self.goal]
        self.run_model_saving_test(model, (inputs,), atol=1e-4)
        # Adam: the goal gating makes the first logits and gradients tiny (a product of four
        # small features), which Adam's per-weight scaling sees past. Built here, eagerly, since
        # building its slots inside the first traced step takes far longer.
        model.compile(
            optimizer=keras.optimizers.Adam(0.01),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        model.optimizer.build(model.trainable_variables)
        self.run_fit_smoke_test(model, inputs, np.array([17, 401]), epochs=4, batch_size=2)

    def test_a_goal_of_another_shape_is_rejected(self):
        transport = GoalTransporterTransport(6, 4, 3, SMALL)
        with pytest.raises(ValueError, match="`goal` must be a map shaped like `inputs`"):
            transport(self.x, self.pick, self.goal[:, :8])

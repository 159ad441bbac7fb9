import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.losses import BoxCornerLoss3D, box_corners_3d
from keras_suite.testing import TestCase
from keras_suite.testing.test_case import value_and_gradients


class BoxCornersTest(TestCase):
    def test_hand_worked_corners(self):
        corners = box_corners_3d(
            np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 1.0, 4.0]]), np.array([np.pi / 2])
        )
        corners = ops.convert_to_numpy(corners)[0]
        # Local corner (x, y, z) = (±1, ±0.5, ±2) rotated by 90 degrees is (-y, x, z).
        expected = np.array(
            [[-y + 1.0, x + 2.0, z + 3.0] for x in (-1, 1) for y in (-0.5, 0.5) for z in (-2, 2)]
        )
        self.assertAllClose(corners, expected, atol=1e-6)


class BoxCornerLoss3DTest(TestCase):
    def test_hand_worked_values(self):
        loss = BoxCornerLoss3D(delta=1.0)
        cube = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]], "float32")
        shifted = cube + np.array([[0.5, 0, 0, 0, 0, 0, 0]], "float32")
        self.assertAllClose(loss(cube, shifted), 0.125, atol=1e-6)
        turned_cube = cube + np.array([[0, 0, 0, 0, 0, 0, np.pi / 2]], "float32")
        # Corners are matched by index, so a cube turned by 90 degrees moves each corner
        # (x, y) to (-y, x): a distance of sqrt(2 * (1 + 1)) = 2, Huber 2 - 0.5.
        self.assertAllClose(loss(cube, turned_cube), 1.5, atol=1e-5)
        # A 4x2x2 box turned by 90 degrees: every corner moves by sqrt(3**2 + 1**2).
        long_box = np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 2.0, 0.0]], "float32")
        turned = long_box + np.array([[0, 0, 0, 0, 0, 0, np.pi / 2]], "float32")
        self.assertAllClose(loss(long_box, turned), np.sqrt(10.0) - 0.5, atol=1e-5)
        both = np.concatenate([cube, long_box])
        self.assertAllClose(
            loss(both, np.concatenate([shifted, turned]), sample_weight=np.array([1.0, 0.0])),
            0.125 / 2,
            atol=1e-6,
        )

    def test_gradient_matches_finite_differences(self):
        loss = BoxCornerLoss3D(delta=0.5)
        truth = np.array([[0.2, -0.1, 0.3, 1.5, 0.8, 0.6, 0.4]], "float32")
        prediction = np.array([[0.5, 0.1, 0.2, 1.2, 1.0, 0.7, 0.9]], "float32")
        _, (gradient,) = value_and_gradients(lambda p: ops.sum(loss.call(truth, p)), [prediction])
        step = 1.0 / 1024
        numeric = np.zeros(7)
        for i in range(7):
            up, down = prediction.astype("float64"), prediction.astype("float64")
            up[0, i] += step
            down[0, i] -= step
            difference = ops.convert_to_numpy(loss.call(truth, up) - loss.call(truth, down))
            numeric[i] = np.sum(difference) / (2 * step)
        # The loss computes in float32, so finite differences are good to about 1e-4.
        self.assertAllClose(ops.convert_to_numpy(gradient)[0], numeric, atol=1e-4, rtol=1e-3)

    def test_config_and_bad_input(self):
        loss = keras.losses.deserialize(keras.losses.serialize(BoxCornerLoss3D(delta=0.3)))
        self.assertEqual(loss.delta, 0.3)
        with pytest.raises(ValueError, match="7 numbers"):
            BoxCornerLoss3D()(np.zeros((1, 6)), np.zeros((1, 6)))
        with pytest.raises(ValueError, match="delta"):
            BoxCornerLoss3D(delta=0.0)

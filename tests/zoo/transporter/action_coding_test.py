import math

import numpy as np
import pybullet
import pytest

from keras_suite.testing import TestCase
from keras_suite.zoo.transporter.action_coding import (
    BOUNDS,
    PIXEL_SIZE,
    action_to_labels,
    angle_to_rotation_bin,
    labels_to_action,
    pixel_in_bounds,
    pixel_to_position,
    position_to_pixel,
    quaternion_to_yaw,
    rotation_bin_to_angle,
    yaw_to_quaternion,
)


class ActionCodingTest(TestCase):
    def test_position_to_pixel_by_hand(self):
        # x = 0.25 + 10.2 px, y = -0.5 + 5.7 px -> column 10, row 5.
        position = np.array([0.25 + 10.2 * PIXEL_SIZE, -0.5 + 5.7 * PIXEL_SIZE, 0.1])
        self.assertAllEqual(position_to_pixel(position), np.array([5, 10]))
        corners = np.array([[0.25, -0.5], [0.75 - 1e-9, 0.5 - 1e-9]])
        self.assertAllEqual(position_to_pixel(corners), np.array([[0, 0], [319, 159]]))
        self.assertAllEqual(
            pixel_in_bounds(position_to_pixel([[0.8, 0.0]]), (320, 160)), np.array([False])
        )

    def test_pixel_to_position_is_the_cell_centre_on_the_surface(self):
        heightmap = np.zeros((320, 160))
        heightmap[5, 10] = 0.04
        position = pixel_to_position(np.array([5, 10]), heightmap)
        self.assertAllClose(
            position,
            np.array([0.25 + 10.5 * PIXEL_SIZE, -0.5 + 5.5 * PIXEL_SIZE, 0.04]),
            atol=1e-12,
        )
        pixels = np.random.default_rng(0).integers(0, [320, 160], size=(50, 2))
        self.assertAllEqual(position_to_pixel(pixel_to_position(pixels, heightmap)), pixels)
        with pytest.raises(ValueError, match="`heightmap` must have shape"):
            pixel_to_position(pixels, np.zeros((2, 2, 2)))

    def test_a_fractional_pixel_lies_between_cell_centres_at_the_nearest_cells_height(self):
        heightmap = np.zeros((320, 160))
        heightmap[5, 10], heightmap[6, 10] = 0.04, 0.01
        position = pixel_to_position(np.array([5.25, 9.75]), heightmap)
        expected = [0.25 + 10.25 * PIXEL_SIZE, -0.5 + 5.75 * PIXEL_SIZE, 0.04]
        self.assertAllClose(position, np.array(expected), atol=1e-12)
        self.assertAllClose(pixel_to_position(np.array([5.75, 10.0]), heightmap)[2], 0.01)

    def test_rotation_bins(self):
        degrees = np.array([0.0, 10.0, 4.9, 5.1, -10.0, 184.0, 359.0, 733.0])
        bins = angle_to_rotation_bin(np.radians(degrees), 36)
        self.assertAllEqual(bins, np.array([0, 1, 0, 1, 35, 18, 0, 1]))
        self.assertAllClose(
            rotation_bin_to_angle([0, 9, 18, 27], 36),
            np.array([0, math.pi / 2, math.pi, -math.pi / 2]),
        )
        all_bins = np.arange(36)
        self.assertAllEqual(
            angle_to_rotation_bin(rotation_bin_to_angle(all_bins, 36), 36), all_bins
        )

    def test_quaternions_agree_with_pybullet(self):
        for yaw in [0.0, 0.3, -2.0, 3.1]:
            expected = pybullet.getQuaternionFromEuler([0.0, 0.0, yaw])
            self.assertAllClose(yaw_to_quaternion(yaw), np.array(expected), atol=1e-7)
            tilted = pybullet.getQuaternionFromEuler([0.1, -0.2, yaw])
            self.assertAllClose(
                quaternion_to_yaw(tilted), pybullet.getEulerFromQuaternion(tilted)[2], atol=1e-6
            )

    def test_action_round_trip(self):
        heightmap = np.full((320, 160), 0.02)
        action = labels_to_action(np.array([100, 40]), np.array([200, 120]), 9, heightmap, 36)
        self.assertAllClose(quaternion_to_yaw(action["pose1"][1]), math.pi / 2, atol=1e-9)
        self.assertAllClose(action["pose0"][1], np.array([0.0, 0, 0, 1]), atol=1e-12)
        pick, place, rotation = action_to_labels(action, 36)
        self.assertAllEqual(pick, np.array([100, 40]))
        self.assertAllEqual(place, np.array([200, 120]))
        self.assertEqual(rotation, 9)
        # The bin is the place yaw relative to the pick yaw.
        turned = {
            "pose0": (action["pose0"][0], yaw_to_quaternion(0.5)),
            "pose1": (action["pose1"][0], yaw_to_quaternion(0.5 - math.pi / 2)),
        }
        self.assertEqual(action_to_labels(turned, 36)[2], 27)
        self.assertEqual(BOUNDS[0], (0.25, 0.75))
        with pytest.raises(ValueError, match="`action` must be a dict with `pose0` and `pose1`"):
            action_to_labels((1, 2), 36)


def test_pixels_agree_with_the_ravens_environment():
    from keras_suite.envs.ravens import cameras

    rng = np.random.default_rng(3)
    heightmap = rng.uniform(0, 0.1, (320, 160))
    for _ in range(20):
        position = rng.uniform([0.25, -0.5, 0.0], [0.75, 0.5, 0.2])
        np.testing.assert_array_equal(
            position_to_pixel(position), np.asarray(cameras.position_to_pixel(position))
        )
        pixel = rng.integers(0, [320, 160])
        np.testing.assert_allclose(
            pixel_to_position(pixel, heightmap),
            np.asarray(cameras.pixel_to_position(pixel, heightmap)),
            atol=1e-9,
        )

"""Tests of the range-image geometry helpers against closed forms."""

import numpy as np

from keras_suite.datasets.waymo_open_lidar.range_image import (
    range_image_to_points,
    rotation_from_euler,
    uniform_inclinations,
)


def elementary(axis, angle):
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    rotation = np.eye(3)
    rotation[i, i], rotation[i, j], rotation[j, i], rotation[j, j] = c, -s, s, c
    return rotation


def test_rotation_is_yaw_pitch_roll():
    roll, pitch, yaw = np.array([0.3, -0.2]), np.array([0.1, 0.7]), np.array([1.2, -2.5])
    rotations = rotation_from_euler(roll, pitch, yaw)
    for k in range(2):
        expected = elementary(2, yaw[k]) @ elementary(1, pitch[k]) @ elementary(0, roll[k])
        np.testing.assert_allclose(rotations[k], expected, atol=1e-12)


def test_uniform_inclinations_are_bin_centres():
    np.testing.assert_allclose(uniform_inclinations(-0.4, 0.4, 4), [-0.3, -0.1, 0.1, 0.3])


def test_columns_sweep_from_left_to_right():
    # A 2-wide image has columns centred on azimuths +pi/2 (left) and -pi/2 (right).
    points = range_image_to_points(np.array([[2.0, 3.0]]), np.eye(4), [0.0])
    np.testing.assert_allclose(points[0], [[0, 2, 0], [0, -3, 0]], atol=1e-12)

import math

import numpy as np
import pytest

from keras_suite.layers.transporter.crop_rotation import (
    rotate_images,
    rotated_crops,
    rotation_angles,
)
from keras_suite.testing import TestCase


def _hand_rotated_crop(image, pivot, angle, crop_size):
    """Nearest-neighbour crop by the definition: out[q] = image[pivot + R(-angle)(q - h)]."""
    half = crop_size // 2
    out = np.zeros((crop_size, crop_size, image.shape[-1]), image.dtype)
    cos, sin = math.cos(angle), math.sin(angle)
    for row in range(crop_size):
        for col in range(crop_size):
            dx, dy = col - half, row - half
            src_x = pivot[1] + cos * dx + sin * dy
            src_y = pivot[0] - sin * dx + cos * dy
            r, c = int(round(src_y)), int(round(src_x))
            if 0 <= r < image.shape[0] and 0 <= c < image.shape[1]:
                out[row, col] = image[r, c]
    return out


class CropRotationTest(TestCase):
    def setUp(self):
        super().setUp()
        self.image = np.arange(2 * 15 * 12 * 2, dtype="float32").reshape(2, 15, 12, 2)

    def test_right_angle_crops_match_numpy_rotations(self):
        pivots = np.array([[7, 5], [6, 6]])
        crops = np.asarray(rotated_crops(self.image, pivots, num_rotations=4, crop_size=5))
        for b, (row, col) in enumerate(pivots):
            window = self.image[b, row - 2 : row + 3, col - 2 : col + 3]
            self.assertAllEqual(crops[b, 0], window)
            # Counter-clockwise with x = column and y = row (pointing down the image) is
            # clockwise on screen: np.rot90 with k=-1.
            self.assertAllEqual(crops[b, 1], np.rot90(window, k=-1))
            self.assertAllEqual(crops[b, 2], np.rot90(window, k=2))
            self.assertAllEqual(crops[b, 3], np.rot90(window, k=1))

    def test_a_quarter_turn_moves_the_right_neighbour_below_the_pivot(self):
        image = np.zeros((1, 9, 9, 1), "float32")
        image[0, 4, 5] = 1.0  # right of the pivot (+x)
        crops = np.asarray(rotated_crops(image, np.array([[4, 4]]), 4, 5))
        self.assertEqual(crops[0, 1, 3, 2, 0], 1.0)  # +x turned by +90 degrees is +y
        self.assertEqual(crops[0, 1].sum(), 1.0)

    def test_any_angle_matches_a_hand_rotated_crop(self):
        pivots = np.array([[7, 5], [3, 9]])
        crops = np.asarray(rotated_crops(self.image, pivots, num_rotations=7, crop_size=6))
        for b in range(2):
            for k, angle in enumerate(rotation_angles(7)):
                expected = _hand_rotated_crop(self.image[b], pivots[b], angle, 6)
                self.assertAllEqual(crops[b, k], expected)

    def test_rotate_images_matches_numpy_on_a_square(self):
        image = np.arange(2 * 6 * 6, dtype="float32").reshape(2, 6, 6, 1)
        angles = np.array([math.pi / 2, -math.pi / 2], "float32")
        rotated = np.asarray(rotate_images(image, angles))
        self.assertAllEqual(rotated[0], np.rot90(image[0], k=-1))
        self.assertAllEqual(rotated[1], np.rot90(image[1], k=1))

    def test_bad_inputs_raise_clear_errors(self):
        with pytest.raises(ValueError, match="must have shape \\(batch, H, W, channels\\)"):
            rotated_crops(self.image[0], np.array([[1, 1]]), 2, 4)
        with pytest.raises(ValueError, match="`crop_size` must not exceed"):
            rotated_crops(self.image, np.array([[1, 1], [2, 2]]), 2, 16)

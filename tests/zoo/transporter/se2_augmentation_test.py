import math

import numpy as np
import pytest
import tensorflow as tf

from keras_suite.testing import TestCase
from keras_suite.zoo.transporter.se2_augmentation import se2_augment

# The augmentation runs inside tf.data, on TensorFlow.
pytestmark = pytest.mark.tensorflow_only


def _blob_map(shape, pixels):
    """A map with 5x5 square blobs of values 1, 2, ... centred on the pixels."""
    image = np.zeros(shape + (2,), "float32")
    for value, (row, col) in enumerate(pixels, start=1):
        image[row - 2 : row + 3, col - 2 : col + 3, 0] = value
    image[..., 1] = 0.5
    return image


class SE2AugmentationTest(TestCase):
    def test_labels_move_with_the_map(self):
        pixels = np.array([[8, 6], [30, 20]])
        image = _blob_map((40, 28), pixels)
        angles = []
        for seed in range(20):
            out, new_pixels, angle = se2_augment(image, pixels, tf.constant([seed, 7]))
            out, new_pixels = out.numpy(), new_pixels.numpy()
            angles.append(float(angle))
            for value, (row, col) in enumerate(new_pixels, start=1):
                self.assertTrue(0 <= row < 40 and 0 <= col < 28)
                self.assertEqual(out[row, col, 0], value, f"seed {seed}")
            # Distances between labels are kept (a rigid motion), up to rounding.
            self.assertAlmostEqual(
                np.linalg.norm(new_pixels[0] - new_pixels[1]),
                np.linalg.norm(pixels[0] - pixels[1]),
                delta=1.5,
            )
            # A blob away from the border keeps its area (25 pixels) up to resampling.
            row, col = new_pixels[0]
            if 3 <= row < 37 and 3 <= col < 25:
                self.assertAlmostEqual(np.sum(out[..., 0] == 1), 25, delta=4)
        self.assertGreater(np.std(angles), 0.5)

    def test_the_pixel_mapping_is_a_rotation_about_the_centre_plus_a_shift(self):
        pixels = np.array([[10, 10], [12, 14], [20, 11]])
        _, new_pixels, angle = se2_augment(np.zeros((32, 24, 1)), pixels, tf.constant([3, 4]))
        angle = float(angle)
        dy, dx = pixels[:, 0] - 15.5, pixels[:, 1] - 11.5
        # Counter-clockwise with x = column and y = row: x' = c x - s y, y' = s x + c y.
        cos, sin = math.cos(angle), math.sin(angle)
        rotated = np.stack([sin * dx + cos * dy + 15.5, cos * dx - sin * dy + 11.5], axis=-1)
        shift = new_pixels.numpy() - rotated
        self.assertLess(np.abs(shift - shift.mean(axis=0)).max(), 1.0)

    def test_falls_back_to_the_identity_when_no_rotation_fits(self):
        # Two pixels at opposite ends of a long thin map: no other angle keeps both inside.
        pixels = np.array([[0, 1], [63, 1]])
        out, new_pixels, angle = se2_augment(_blob_map((64, 3), [[2, 1]])[..., :1], pixels, [1, 1])
        self.assertEqual(float(angle), 0.0)
        # Rows cannot move; columns may shift together by any translation that fits.
        shift = new_pixels.numpy() - pixels
        self.assertAllEqual(shift[:, 0], np.zeros(2))
        self.assertEqual(shift[0, 1], shift[1, 1])

    def test_bad_image_raises_a_clear_error(self):
        with pytest.raises(ValueError, match="`image` must have shape \\(H, W, channels\\)"):
            se2_augment(np.zeros((4, 4)), np.array([[1, 1]]), [1, 2])

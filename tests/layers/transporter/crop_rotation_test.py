import math

import numpy as np
import pytest
from keras import ops

from keras_suite.layers.transporter.crop_rotation import (
    float32_sin_cos,
    rotate_images,
    rotated_crops,
    rotation_angles,
    rotation_transforms,
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


def _crops_by_the_rule(image, pivot, num_rotations, crop_size):
    """`rotated_crops` of one image by the module's rule, one pixel at a time in float32 NumPy.

    The source point is `(cos * col + sin * row) + ((px - cos * h) - sin * h)` (and the like for
    the row), each product and sum rounded to float32, then rounded half away from zero.
    """
    f = np.float32
    half = f(crop_size // 2)
    sin, cos = float32_sin_cos(rotation_angles(num_rotations))
    out = np.zeros((num_rotations, crop_size, crop_size, image.shape[-1]), image.dtype)
    for k in range(num_rotations):
        c, s = cos[k], sin[k]
        shift_x = (f(pivot[1]) - c * half) - s * half
        shift_y = (f(pivot[0]) + s * half) - c * half
        for row in range(crop_size):
            for col in range(crop_size):
                x = (c * f(col) + s * f(row)) + shift_x
                y = (-s * f(col) + c * f(row)) + shift_y
                r = int(np.sign(y) * np.floor(abs(y) + 0.5))
                q = int(np.sign(x) * np.floor(abs(x) + 0.5))
                if 0 <= r < image.shape[0] and 0 <= q < image.shape[1]:
                    out[k, row, col] = image[r, q]
    return out


class SamplingRuleTest(TestCase):
    def test_crops_follow_the_rule_bit_for_bit_where_points_fall_on_halves(self):
        # 12 rotations: turns of 30 degrees, whose sine is 0.5, put sample points on .5.
        image = np.random.default_rng(0).normal(size=(1, 40, 24, 2)).astype("float32")
        for pivot in ([20, 12], [0, 23], [39, 0]):
            crops = ops.convert_to_numpy(rotated_crops(image, np.array([pivot]), 12, 8))[0]
            np.testing.assert_array_equal(crops, _crops_by_the_rule(image[0], pivot, 12, 8))

    @pytest.mark.tensorflow_only
    def test_equals_tensorflows_affine_transform(self):
        import tensorflow as tf

        image = np.random.default_rng(1).normal(size=(2, 80, 40, 3)).astype("float32")
        pivots = np.array([[40, 20], [3, 37]])
        crops = ops.convert_to_numpy(rotated_crops(image, pivots, 36, 16))
        transforms = rotation_transforms(np.repeat(pivots, 36, 0), rotation_angles(36) * 2, (8, 8))
        expected = tf.raw_ops.ImageProjectiveTransformV3(
            images=np.repeat(image, 36, 0),
            transforms=transforms,
            output_shape=[80, 40],
            fill_value=0.0,
            interpolation="NEAREST",
            fill_mode="CONSTANT",
        )[:, :16, :16].numpy()
        np.testing.assert_array_equal(crops.reshape(expected.shape), expected)
        angles = [0.0, 0.3, math.pi / 6, -2.0]
        turned = ops.convert_to_numpy(rotate_images(image[:1].repeat(4, 0), angles))
        centre = ((80 - 1) / 2.0, (40 - 1) / 2.0)
        expected = tf.raw_ops.ImageProjectiveTransformV3(
            images=image[:1].repeat(4, 0),
            transforms=rotation_transforms(np.array([centre] * 4), angles, centre),
            output_shape=[80, 40],
            fill_value=0.0,
            interpolation="NEAREST",
            fill_mode="CONSTANT",
        ).numpy()
        np.testing.assert_array_equal(turned, expected)

    @pytest.mark.tensorflow_only
    def test_float32_sin_cos_equals_tensorflows_kernels(self):
        import tensorflow as tf

        angles = np.concatenate([rotation_angles(n) for n in (8, 12, 36, 72)]).astype("float32")
        angles = np.concatenate([angles, -angles])
        sin, cos = float32_sin_cos(angles)
        np.testing.assert_array_equal(sin, tf.sin(angles).numpy())
        np.testing.assert_array_equal(cos, tf.cos(angles).numpy())

import numpy as np

from keras_suite.testing import TestCase
from keras_suite.zoo import TransporterNet
from keras_suite.zoo.transporter.action_coding import (
    BOUNDS,
    PIXEL_SIZE,
    labels_to_action,
    pixel_to_position,
    position_to_pixel,
)
from keras_suite.zoo.transporter.map_scaling import (
    downsample_maps,
    downsample_pixels,
    map_scale_factor,
)

SMALL = (4, 4, 8, 8, 8, 4, 4, 4)


class MapScalingTest(TestCase):
    def test_downsample_matches_a_loop_over_blocks(self):
        rng = np.random.default_rng(0)
        images = rng.uniform(0, 1, (2, 12, 9, 4)).astype("float32")
        out = downsample_maps(images, 3)
        self.assertEqual(out.shape, (2, 4, 3, 4))
        for b in range(2):
            for i in range(4):
                for j in range(3):
                    block = images[b, 3 * i : 3 * i + 3, 3 * j : 3 * j + 3]
                    self.assertAllClose(out[b, i, j, :3], block[..., :3].mean(axis=(0, 1)))
                    self.assertAllClose(out[b, i, j, 3], block[..., 3].max())
        self.assertAllClose(downsample_maps(images, 1), images)

    def test_coarse_pixel_holds_the_fine_pixel_position(self):
        rng = np.random.default_rng(1)
        fine = np.stack([rng.integers(0, 320, 50), rng.integers(0, 160, 50)], axis=-1)
        heights = np.zeros((160, 80))
        coarse = downsample_pixels(fine, 2)
        fine_positions = pixel_to_position(fine, np.zeros((320, 160)))
        # The fine pixel's centre lies in the coarse pixel's cell.
        self.assertAllEqual(position_to_pixel(fine_positions, BOUNDS, 2 * PIXEL_SIZE), coarse)
        centres = pixel_to_position(coarse, heights, BOUNDS, 2 * PIXEL_SIZE)
        self.assertLessEqual(np.abs(centres - fine_positions).max(), PIXEL_SIZE / 2 + 1e-9)

    def test_scale_factor(self):
        self.assertEqual(map_scale_factor((320, 160, 4), BOUNDS, PIXEL_SIZE), 1)
        self.assertEqual(map_scale_factor((320, 160, 4), BOUNDS, 2 * PIXEL_SIZE), 2)
        self.assertEqual(map_scale_factor((320, 160, 4), BOUNDS, 4 * PIXEL_SIZE), 4)
        # A map that is not a multiple of the model's grid is used as it is.
        self.assertEqual(map_scale_factor((24, 16, 4), BOUNDS, PIXEL_SIZE), 1)

    def test_bad_maps_are_rejected_with_their_shape(self):
        with self.assertRaisesRegex(ValueError, r"shape=\(5, 4, 4\)"):
            downsample_maps(np.zeros((5, 4, 4)), 2)
        with self.assertRaisesRegex(ValueError, r"images.shape=\(4, 4, 3\)"):
            downsample_maps(np.zeros((4, 4, 3)), 2)

    def test_act_on_a_fine_map_acts_on_the_coarse_map(self):
        model = TransporterNet(
            crop_size=8,
            num_rotations=4,
            attention_filters=SMALL,
            transport_filters=SMALL,
            bounds=((0.0, 0.1), (0.0, 0.2), (0.0, 0.3)),
            pixel_size=0.01,
        )
        rng = np.random.default_rng(2)
        fine = np.concatenate(
            [rng.uniform(0, 255, (40, 20, 3)), rng.uniform(0, 0.05, (40, 20, 1))], axis=-1
        ).astype("float32")
        action = model.act({"image": fine})
        coarse = downsample_maps(fine, 2)
        pick, place, rotation = model.predict_labels(coarse[None])
        expected = labels_to_action(
            pick[0], place[0], int(rotation[0]), coarse[..., 3], 4, model.bounds, 0.01
        )
        for key in ("pose0", "pose1"):
            self.assertAllClose(action[key][0], expected[key][0], atol=1e-9)
            self.assertAllClose(action[key][1], expected[key][1], atol=1e-9)

import numpy as np

from keras_suite.testing import TestCase
from keras_suite.zoo.transporter.test_time_turns import (
    map_probabilities,
    turned_maps,
    turned_pixels,
    unturned_mean,
)


class TestTimeTurnsTest(TestCase):
    def test_a_marked_pixel_lands_where_turned_pixels_says(self):
        rng = np.random.default_rng(0)
        maps = np.zeros((3, 10, 6, 2), "float32")
        pixels = np.stack([rng.integers(0, 10, 3), rng.integers(0, 6, 3)], axis=-1)
        for b, (row, col) in enumerate(pixels):
            maps[b, row, col, 1] = 1.0
        for turns in (1, 2, 4):
            turned = turned_maps(maps, turns)
            # Quarter turns pad the maps to a square first; half turns need not.
            self.assertEqual(turned.shape, (3 * turns, 10, 10 if turns == 4 else 6, 2))
            for copy, (row, col) in enumerate(turned_pixels(pixels, turns, (10, 6))):
                marked = np.argwhere(turned[copy, ..., 1] == 1.0)
                self.assertAllEqual(marked, np.array([[row, col]]))

    def test_turns_by_hand_and_back(self):
        maps = np.arange(2 * 4 * 2, dtype="float32").reshape(1, 4, 2, 2)
        turned = turned_maps(maps, 4)
        # Padded with a zero column on each side, then turned counter-clockwise by 90 degrees:
        # the padded map's last column becomes the first row.
        square = np.zeros((4, 4, 2), "float32")
        square[:, 1:3] = maps[0]
        self.assertAllClose(turned[0], square)
        self.assertAllClose(turned[1], square.transpose(1, 0, 2)[::-1])
        self.assertAllClose(turned[2], square[::-1, ::-1])
        # Each copy turned back is the map again, so their mean is too.
        self.assertAllClose(unturned_mean(turned, 4, (4, 2)), maps)
        halves = turned_maps(maps, 2)
        self.assertAllClose(halves, np.concatenate([maps, maps[:, ::-1, ::-1]]))
        self.assertAllClose(unturned_mean(halves, 2, (4, 2)), maps)

    def test_map_probabilities_are_a_softmax_over_each_whole_map(self):
        logits = np.random.default_rng(1).normal(size=(2, 3, 4, 5))
        probabilities = map_probabilities(logits)
        for b in range(2):
            expected = np.exp(logits[b]) / np.exp(logits[b]).sum()
            self.assertAllClose(probabilities[b], expected)

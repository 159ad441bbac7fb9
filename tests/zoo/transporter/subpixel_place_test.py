import numpy as np

from keras_suite.testing import TestCase
from keras_suite.zoo.transporter.subpixel_place import subpixel_places


class SubpixelPlaceTest(TestCase):
    def test_mean_pixel_by_hand(self):
        probabilities = np.zeros((1, 5, 5, 2))
        probabilities[0, 2, 2, 1] = 0.4
        probabilities[0, 2, 3, 1] = 0.2
        probabilities[0, 1, 2, 1] = 0.2
        probabilities[0, 4, 4, 1] = 0.1  # outside the 3 x 3 window
        probabilities[0, 2, 1, 0] = 0.1  # at another rotation
        means = subpixel_places(probabilities, [[2, 2]], [1])
        # Rows (0.4 * 2 + 0.2 * 2 + 0.2 * 1) / 0.8, columns (0.4 * 2 + 0.2 * 3 + 0.2 * 2) / 0.8.
        self.assertAllClose(means, np.array([[1.75, 2.25]]), atol=1e-12)

    def test_against_a_loop_over_each_window_cut_at_the_edges(self):
        rng = np.random.default_rng(0)
        probabilities = rng.uniform(size=(4, 6, 5, 3))
        pixels = np.array([[0, 0], [5, 4], [3, 2], [0, 3]])
        bins = np.array([0, 2, 1, 2])
        for radius in (1, 2):
            means = subpixel_places(probabilities, pixels, bins, radius=radius)
            for k, ((row, col), rotation) in enumerate(zip(pixels, bins)):
                total, rows, cols = 0.0, 0.0, 0.0
                for r in range(row - radius, row + radius + 1):
                    for c in range(col - radius, col + radius + 1):
                        if 0 <= r < 6 and 0 <= c < 5:
                            p = probabilities[k, r, c, rotation]
                            total, rows, cols = total + p, rows + p * r, cols + p * c
                self.assertAllClose(means[k], np.array([rows, cols]) / total, atol=1e-12)

    def test_a_peak_alone_stays_on_its_pixel(self):
        probabilities = np.zeros((1, 4, 4, 1))
        probabilities[0, 1, 3, 0] = 1.0
        self.assertAllClose(subpixel_places(probabilities, [[1, 3]], [0]), np.array([[1.0, 3.0]]))

import keras
import numpy as np

from keras_suite.testing import TestCase
from keras_suite.zoo.dreamer import truncated_normal


class TruncatedNormalTest(TestCase):
    def test_density_entropy_and_samples_match_numerical_integrals(self):
        mean, std = np.float32(0.6), np.float32(0.5)
        grid = np.linspace(-1 + 1e-5, 1 - 1e-5, 20001, dtype="float32")
        m, s = np.full_like(grid, mean)[:, None], np.full_like(grid, std)[:, None]
        logp = np.asarray(truncated_normal.log_prob(grid[:, None], m, s))
        density = np.exp(logp)
        dx = grid[1] - grid[0]
        self.assertAllClose(density.sum() * dx, 1.0, atol=1e-3)
        entropy = -(density * logp).sum() * dx
        self.assertAllClose(truncated_normal.entropy(m[:1], s[:1])[0], entropy, atol=1e-3)
        samples = np.asarray(
            truncated_normal.sample(
                np.full((50000, 1), mean), np.full((50000, 1), std), keras.random.SeedGenerator(0)
            )
        )
        self.assertTrue(np.all(np.abs(samples) < 1.0))
        self.assertAllClose(samples.mean(), (grid * density).sum() * dx, atol=0.01)

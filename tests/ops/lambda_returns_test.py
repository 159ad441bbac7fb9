import numpy as np

from keras_suite.ops import lambda_returns
from keras_suite.testing import TestCase


def _hand_loop(rewards, values, discounts, bootstrap, lam):
    batch, steps = rewards.shape
    out = np.zeros_like(rewards, dtype="float64")
    for b in range(batch):
        following = bootstrap[b]
        for t in reversed(range(steps)):
            next_value = values[b, t + 1] if t + 1 < steps else bootstrap[b]
            following = rewards[b, t] + discounts[b, t] * ((1 - lam) * next_value + lam * following)
            out[b, t] = following
    return out


class LambdaReturnsTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.rewards = rng.normal(size=(3, 7)).astype("float32")
        self.values = rng.normal(size=(3, 7)).astype("float32")
        self.discounts = (0.99 * (rng.random((3, 7)) > 0.1)).astype("float32")
        self.bootstrap = rng.normal(size=(3,)).astype("float32")

    def test_matches_hand_loop(self):
        for lam in (0.0, 0.95, 1.0):
            out = lambda_returns(self.rewards, self.values, self.discounts, self.bootstrap, lam)
            ref = _hand_loop(self.rewards, self.values, self.discounts, self.bootstrap, lam)
            self.assertAllClose(out, ref, atol=1e-5)

    def test_lambda_one_is_discounted_return(self):
        out = lambda_returns(self.rewards, self.values, self.discounts, self.bootstrap, 1.0)
        ref = np.zeros((3, 7))
        for b in range(3):
            for t in range(7):
                total, scale = 0.0, 1.0
                for k in range(t, 7):
                    total += scale * self.rewards[b, k]
                    scale *= self.discounts[b, k]
                ref[b, t] = total + scale * self.bootstrap[b]
        self.assertAllClose(out, ref, atol=1e-5)

    def test_time_major(self):
        out = lambda_returns(
            self.rewards.T, self.values.T, self.discounts.T, self.bootstrap, 0.9, axis=0
        )
        ref = _hand_loop(self.rewards, self.values, self.discounts, self.bootstrap, 0.9)
        self.assertAllClose(out, ref.T, atol=1e-5)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "lambda_"):
            lambda_returns(self.rewards, self.values, self.discounts, self.bootstrap, 1.5)
        with self.assertRaisesRegex(ValueError, "same shape"):
            lambda_returns(self.rewards, self.values[:, 1:], self.discounts, self.bootstrap)

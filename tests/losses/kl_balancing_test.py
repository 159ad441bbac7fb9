import keras
import numpy as np
from keras import ops

from keras_suite.losses import kl_balancing
from keras_suite.testing import TestCase
from keras_suite.zoo.dreamer.backend import value_and_grad


def _numpy_kl(post, prior):
    def log_softmax(x):
        x = x - x.max(-1, keepdims=True)
        return x - np.log(np.exp(x).sum(-1, keepdims=True))

    lp, lq = log_softmax(post.astype("float64")), log_softmax(prior.astype("float64"))
    return (np.exp(lp) * (lp - lq)).sum((-2, -1))


class KLBalancingTest(TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.post = rng.normal(size=(3, 4, 5, 6)).astype("float32")
        self.prior = rng.normal(size=(3, 4, 5, 6)).astype("float32")

    def test_value_is_mean_kl(self):
        value = kl_balancing(self.post, self.prior, balance=0.8)
        self.assertAllClose(value, _numpy_kl(self.post, self.prior).mean(), atol=1e-5)

    def test_gradient_split(self):
        post, prior = keras.Variable(self.post), keras.Variable(self.prior)

        def plain_both():
            log_post = ops.log_softmax(post, axis=-1)
            kl = ops.exp(log_post) * (log_post - ops.log_softmax(prior, axis=-1))
            return ops.mean(ops.sum(kl, axis=(-2, -1)))

        _, (g_post, g_prior) = value_and_grad(
            lambda: kl_balancing(post, prior, balance=0.8), [post, prior]
        )
        _, (ref_post, ref_prior) = value_and_grad(plain_both, [post, prior])
        self.assertAllClose(g_prior, 0.8 * ops.convert_to_numpy(ref_prior), atol=1e-7)
        self.assertAllClose(g_post, 0.2 * ops.convert_to_numpy(ref_post), atol=1e-7)
        # balance=1 trains the prior only.
        _, (g_post, _) = value_and_grad(
            lambda: kl_balancing(post, prior, balance=1.0), [post, prior]
        )
        self.assertAllClose(g_post, np.zeros_like(self.post))

    def test_free_nats_clamp_value_and_gradient(self):
        post, prior = keras.Variable(self.post), keras.Variable(self.prior)
        kl = _numpy_kl(self.post, self.prior).mean()
        loss, grads = value_and_grad(
            lambda: kl_balancing(post, prior, free_nats=kl + 1.0), [post, prior]
        )
        self.assertAllClose(loss, kl + 1.0, atol=1e-5)
        for grad in grads:
            self.assertAllClose(grad, np.zeros_like(self.post))

    def test_gaussian(self):
        m1, s1, m2, s2 = (np.float32(v) for v in (0.5, 1.5, -0.2, 0.7))
        ref = np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
        value = kl_balancing(
            (np.full((2, 3), m1), np.full((2, 3), s1)),
            (np.full((2, 3), m2), np.full((2, 3), s2)),
            distribution="gaussian",
        )
        self.assertAllClose(value, 3 * ref, atol=1e-5)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "balance"):
            kl_balancing(self.post, self.prior, balance=1.5)
        with self.assertRaisesRegex(ValueError, "distribution"):
            kl_balancing(self.post, self.prior, distribution="beta")

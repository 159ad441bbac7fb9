import numpy as np
import tensorflow as tf

from keras_suite.losses import kl_balancing
from keras_suite.testing import TestCase


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
        post, prior = tf.Variable(self.post), tf.Variable(self.prior)
        with tf.GradientTape(persistent=True) as tape:
            balanced = kl_balancing(post, prior, balance=0.8)
            plain = kl_balancing(post, prior, balance=1.0)  # same value
            plain_both = tf.reduce_mean(
                tf.reduce_sum(
                    tf.nn.softmax(post) * (tf.nn.log_softmax(post) - tf.nn.log_softmax(prior)),
                    axis=(-2, -1),
                )
            )
        g_post, g_prior = tape.gradient(balanced, [post, prior])
        ref_post, ref_prior = tape.gradient(plain_both, [post, prior])
        self.assertAllClose(g_prior, 0.8 * ref_prior, atol=1e-7)
        self.assertAllClose(g_post, 0.2 * ref_post, atol=1e-7)
        # balance=1 trains the prior only.
        self.assertIsNone(tape.gradient(plain, post))

    def test_free_nats_clamp_value_and_gradient(self):
        post, prior = tf.Variable(self.post), tf.Variable(self.prior)
        kl = _numpy_kl(self.post, self.prior).mean()
        with tf.GradientTape() as tape:
            loss = kl_balancing(post, prior, free_nats=kl + 1.0)
        self.assertAllClose(loss, kl + 1.0, atol=1e-5)
        for grad in tape.gradient(loss, [post, prior]):
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

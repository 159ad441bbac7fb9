import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.ops import static_scan
from keras_suite.testing import TestCase
from keras_suite.zoo.dreamer.backend import value_and_grad


class StaticScanTest(TestCase):
    def test_matches_python_loop_forward_and_reverse(self):
        xs = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
        init = {"a": np.zeros(3, "float32"), "b": np.ones(3, "float32")}

        def fn(carry, x):
            return {"a": 0.5 * carry["a"] + x, "b": carry["b"] * (1.0 + 0.1 * x)}

        for reverse in (False, True):
            out = static_scan(fn, init, xs, reverse=reverse)
            carry, expected = init, [None] * 5
            for t in reversed(range(5)) if reverse else range(5):
                carry = fn(carry, xs[t])
                expected[t] = carry
            self.assertAllClose(out["a"], np.stack([e["a"] for e in expected]), atol=1e-6)
            self.assertAllClose(out["b"], np.stack([e["b"] for e in expected]), atol=1e-6)

    def test_gradient_matches_closed_form(self):
        w = keras.Variable(np.full((2,), 0.9, "float32"))
        xs = ops.convert_to_tensor(np.arange(8, dtype="float32").reshape(4, 2))
        loss, (g,) = value_and_grad(
            lambda: ops.sum(static_scan(lambda c, x: c * w + x, ops.zeros(2), xs)), [w]
        )
        self._check_closed_form(loss, g)

    @pytest.mark.tensorflow_only
    def test_gradient_compiles_under_xla(self):
        import tensorflow as tf

        w = tf.Variable(np.full((2,), 0.9, "float32"))
        xs = tf.constant(np.arange(8, dtype="float32").reshape(4, 2))

        @tf.function(jit_compile=True)
        def grad():
            with tf.GradientTape() as tape:
                out = static_scan(lambda c, x: c * w + x, tf.zeros(2), xs)
                loss = tf.reduce_sum(out)
            return loss, tape.gradient(loss, w)

        self._check_closed_form(*grad())

    def _check_closed_form(self, loss, g):
        # Closed form: out_t = sum_{k<=t} w^(t-k) x_k.
        wv, x = 0.9, np.arange(8, dtype="float64").reshape(4, 2)
        out = [sum(wv ** (t - k) * x[k] for k in range(t + 1)) for t in range(4)]
        dout = [
            sum(((t - k) * wv ** (t - k - 1) * x[k] for k in range(t)), np.zeros(2))
            for t in range(4)
        ]
        self.assertAllClose(loss, np.sum(out), atol=1e-4)
        self.assertAllClose(g, np.sum(dout, axis=0), atol=1e-4)

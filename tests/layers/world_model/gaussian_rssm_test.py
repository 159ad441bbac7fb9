import keras
import numpy as np
from keras import ops

from keras_suite.layers import GaussianRSSM
from keras_suite.testing import TestCase


def _inputs(batch=2, steps=5):
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(batch, steps, 8)).astype("float32"),
        rng.normal(size=(batch, steps, 2)).astype("float32"),
        np.zeros((batch, steps), "float32"),
    )


class GaussianRSSMTest(TestCase):
    def test_layer_basics(self):
        state_shape = {"deter": (2, 5, 12), "stoch": (2, 5, 4), "mean": (2, 5, 4), "std": (2, 5, 4)}
        self.run_layer_test(
            GaussianRSSM,
            init_kwargs=dict(deter_size=12, stoch_size=4, hidden_size=10),
            input_data=_inputs(),
            expected_output_shape=(state_shape, state_shape),
            expected_num_trainable_weights=13,
        )

    def test_kl_matches_closed_form_and_std_floor(self):
        rssm = GaussianRSSM(deter_size=12, stoch_size=4, hidden_size=10, min_std=0.1, seed=1)
        posterior, prior = rssm(*_inputs(), training=True)
        m1, s1, m2, s2 = (
            ops.convert_to_numpy(x).astype("float64")
            for x in (posterior["mean"], posterior["std"], prior["mean"], prior["std"])
        )
        kl = (np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5).sum(-1).mean()
        self.assertAllClose(rssm.kl_loss(posterior, prior, balance=0.8), kl, atol=1e-5, rtol=1e-5)
        self.assertGreaterEqual(float(np.min(s1)), 0.1)
        # Without sampling the latent is the mean.
        posterior, _ = rssm(*_inputs(), training=False)
        self.assertAllClose(posterior["stoch"], posterior["mean"])

    def test_saving_round_trip(self):
        embed, actions, is_first = keras.Input((5, 8)), keras.Input((5, 2)), keras.Input((5,))
        rssm = GaussianRSSM(deter_size=12, stoch_size=4, hidden_size=10)
        posterior, _ = rssm(embed, actions, is_first)
        model = keras.Model([embed, actions, is_first], rssm.features(posterior))
        self.run_model_saving_test(model, list(_inputs()))

    def test_bad_min_std(self):
        with self.assertRaisesRegex(ValueError, "min_std"):
            GaussianRSSM(min_std=0.0)

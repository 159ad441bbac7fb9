import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.layers import CategoricalRSSM
from keras_suite.testing import TestCase
from keras_suite.zoo.dreamer.backend import value_and_grad


def _inputs(batch=2, steps=6, embed=8, actions=3, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(batch, steps, embed)).astype("float32"),
        np.eye(actions, dtype="float32")[rng.integers(0, actions, (batch, steps))],
        np.zeros((batch, steps), "float32"),
    )


def _rssm(**kwargs):
    config = dict(deter_size=12, stoch_size=3, num_classes=5, hidden_size=10, seed=3)
    config.update(kwargs)
    return CategoricalRSSM(**config)


class CategoricalRSSMTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            CategoricalRSSM,
            init_kwargs=dict(deter_size=12, stoch_size=3, num_classes=5, hidden_size=10),
            input_data=_inputs(),
            expected_output_shape=(
                {"deter": (2, 6, 12), "stoch": (2, 6, 3, 5), "logits": (2, 6, 3, 5)},
            )
            * 2,
            expected_num_trainable_weights=13,
        )

    def test_observe_matches_step_by_step_loop_with_resets(self):
        embed, actions, is_first = _inputs()
        is_first[:, 0] = 1.0
        is_first[1, 3] = 1.0
        rssm = _rssm()
        posterior, prior = rssm.observe(embed, actions, is_first, sample=False)
        state = rssm.initial_state(2)
        for t in range(6):
            keep = (1.0 - is_first[:, t])[:, None]
            state = {
                k: v * ops.convert_to_tensor(keep.reshape((-1,) + (1,) * (len(v.shape) - 1)))
                for k, v in state.items()
            }
            step_prior = rssm.img_step(state, actions[:, t] * keep, sample=False)
            state = rssm.obs_step(step_prior, embed[:, t], sample=False)
            self.assertAllClose(posterior["deter"][:, t], state["deter"], atol=1e-5)
            self.assertAllClose(posterior["logits"][:, t], state["logits"], atol=1e-5)
            self.assertAllClose(prior["logits"][:, t], step_prior["logits"], atol=1e-5)

    def test_state_resets_where_is_first(self):
        embed, actions, is_first = _inputs(batch=1, steps=7)
        is_first[0, 4] = 1.0
        rssm = _rssm()
        full, _ = rssm.observe(embed, actions, is_first, sample=False)
        fresh, _ = rssm.observe(embed[:, 4:], actions[:, 4:], is_first[:, 4:], sample=False)
        self.assertAllClose(full["deter"][:, 4:], fresh["deter"], atol=1e-5)
        self.assertAllClose(full["logits"][:, 4:], fresh["logits"], atol=1e-5)
        # Without the reset the states differ.
        carried, _ = rssm.observe(embed, actions, np.zeros_like(is_first), sample=False)
        self.assertGreater(
            np.abs(ops.convert_to_numpy(carried["deter"][:, 4:] - fresh["deter"])).max(), 1e-3
        )

    def test_imagine_matches_img_step_loop(self):
        embed, actions, is_first = _inputs()
        rssm = _rssm()
        posterior, _ = rssm.observe(embed, actions, is_first, sample=False)
        start = {k: v[:, -1] for k, v in posterior.items()}
        imagined = rssm.imagine(actions, start, sample=False)
        state = start
        for t in range(6):
            state = rssm.img_step(state, actions[:, t], sample=False)
            self.assertAllClose(imagined["deter"][:, t], state["deter"], atol=1e-5)
            self.assertAllClose(imagined["stoch"][:, t], state["stoch"], atol=1e-5)
        self.assertEqual(tuple(rssm.features(imagined).shape), (2, 6, 3 * 5 + 12))
        self.assertEqual(rssm.feature_size, 27)

    def test_samples_are_one_hot_with_straight_through_gradient(self):
        rssm = _rssm(stoch_size=4, num_classes=6)
        logits = keras.Variable(np.random.default_rng(1).normal(size=(5, 4, 6)).astype("float32"))
        weights = np.random.default_rng(2).normal(size=(5, 4, 6)).astype("float32")
        noise = rssm.noise((5,))
        values = ops.convert_to_numpy(rssm._sample({"logits": logits}, noise, sample=True))
        self.assertAllClose(values.sum(-1), np.ones((5, 4)), atol=1e-6)
        self.assertTrue(np.all(np.isclose(values, 0.0, atol=1e-6) | np.isclose(values, 1.0)))
        _, grad = value_and_grad(
            lambda: ops.sum(
                rssm._sample({"logits": logits}, noise, sample=True)
                * ops.convert_to_tensor(weights)
            ),
            [logits],
        )
        # The reference: the gradient of the class probabilities, sum_c w_c * p_c, by hand.
        p = ops.convert_to_numpy(ops.softmax(logits, axis=-1))
        reference = p * (weights - (p * weights).sum(-1, keepdims=True))
        self.assertAllClose(grad[0], reference, atol=1e-6)

    def test_sample_frequencies_match_probabilities(self):
        rssm = _rssm(stoch_size=1, num_classes=4)
        logits = np.log(np.array([[[0.1, 0.2, 0.3, 0.4]]], "float32")).repeat(20000, 0)
        stoch = rssm._sample({"logits": logits}, rssm.noise((20000,)), sample=True)
        self.assertAllClose(
            np.asarray(stoch).mean(0)[0], np.array([0.1, 0.2, 0.3, 0.4]), atol=0.015
        )

    def test_unimix_bounds_probabilities(self):
        rssm = _rssm(unimix=0.01)
        stats = rssm._stats(
            ops.convert_to_tensor(np.full((2, 15), -50.0, "float32") * np.eye(15)[:2])
        )
        probs = np.asarray(ops.softmax(stats["logits"], axis=-1))
        self.assertGreaterEqual(probs.min(), 0.01 / 5 - 1e-7)
        self.assertAllClose(probs.sum(-1), np.ones((2, 3)), atol=1e-6)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "deter_size"):
            CategoricalRSSM(deter_size=0)
        with self.assertRaisesRegex(ValueError, "is_first"):
            _rssm().observe(*_inputs()[:2], np.zeros((2, 6, 1, 1), "float32"))

    def _functional_model(self):
        embed = keras.Input((6, 8))
        actions = keras.Input((6, 3))
        is_first = keras.Input((6,))
        rssm = _rssm()
        posterior, _ = rssm(embed, actions, is_first)
        outputs = keras.layers.Dense(1)(rssm.features(posterior))
        return keras.Model([embed, actions, is_first], outputs)

    @pytest.mark.slow
    def test_saving_and_fit(self):
        keras.utils.set_random_seed(0)
        model = self._functional_model()
        x = list(_inputs(batch=8))
        self.run_model_saving_test(model, x)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        y = np.random.default_rng(0).normal(size=(8, 6, 1)).astype("float32")
        self.run_fit_smoke_test(model, x, y, epochs=3, batch_size=8)

import numpy as np
from keras import ops

from keras_suite.layers import CategoricalRSSM
from keras_suite.testing import TestCase


def _rssm():
    return CategoricalRSSM(deter_size=12, stoch_size=3, num_classes=5, hidden_size=10, seed=3)


class CategoricalRSSMSamplingTest(TestCase):
    def test_inverse_transform_samples_match_searchsorted(self):
        rng = np.random.default_rng(0)
        logits = rng.normal(size=(64, 3, 5)).astype("float32")
        logits[:, :, 2] = -1e9  # a class of zero probability is never drawn
        noise = rng.uniform(size=(64, 3)).astype("float32")
        stoch = ops.convert_to_numpy(_rssm()._sample({"logits": logits}, noise, sample=True))
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        cdf = np.cumsum(probs.astype("float64"), -1)
        expected = np.array(
            [
                [np.searchsorted(cdf[i, j], noise[i, j], side="right") for j in range(3)]
                for i in range(64)
            ]
        )
        self.assertAllEqual(stoch.argmax(-1), expected)
        self.assertAllClose(stoch.sum(-1), np.ones((64, 3)), atol=1e-6)
        self.assertEqual(int((stoch.argmax(-1) == 2).sum()), 0)

    def test_sampled_observe_matches_step_by_step_loop(self):
        rng = np.random.default_rng(1)
        batch, steps = 2, 6
        embed = rng.normal(size=(batch, steps, 8)).astype("float32")
        actions = np.eye(3, dtype="float32")[rng.integers(0, 3, (batch, steps))]
        is_first = np.zeros((batch, steps), "float32")
        is_first[:, 0] = 1.0
        is_first[0, 4] = 1.0
        rssm = _rssm()
        rssm.build(embed.shape, actions.shape)
        noise = ops.convert_to_tensor(rng.uniform(size=(2, steps, batch, 3)).astype("float32"))
        rssm.noise = lambda shape: noise  # the same noise for `observe` and the reference loop
        posterior, prior = rssm.observe(embed, actions, is_first, sample=True)
        state = rssm.initial_state(batch)
        for t in range(steps):
            keep = (1.0 - is_first[:, t])[:, None]
            state = {
                k: v * ops.convert_to_tensor(keep.reshape((-1,) + (1,) * (len(v.shape) - 1)))
                for k, v in state.items()
            }
            step_prior = rssm.img_step(state, actions[:, t] * keep, noise[0, t])
            state = rssm.obs_step(step_prior, embed[:, t], noise[1, t])
            for got, want in ((posterior, state), (prior, step_prior)):
                self.assertAllClose(got["deter"][:, t], want["deter"], atol=1e-5)
                self.assertAllClose(got["logits"][:, t], want["logits"], atol=1e-5)
                self.assertAllClose(got["stoch"][:, t], want["stoch"], atol=1e-6)

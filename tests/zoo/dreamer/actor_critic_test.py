import keras
import numpy as np
from keras import ops

from keras_suite.testing import TestCase
from keras_suite.zoo import ActorCritic
from keras_suite.zoo.dreamer.backend import value_and_grad


def _log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


class ActorCriticTest(TestCase):
    def _ac(self, **kwargs):
        ac = ActorCritic(num_actions=3, mlp_units=8, mlp_layers=1, seed=0, **kwargs)
        ac.build((None, 5))
        return ac

    def test_reinforce_and_critic_losses_match_numpy(self):
        ac = self._ac(actor_entropy=0.01)
        rng = np.random.default_rng(0)
        features = rng.normal(size=(4, 6, 5)).astype("float32")  # (horizon + 1, n, feat)
        actions = np.eye(3, dtype="float32")[rng.integers(0, 3, (3, 6))]
        target = rng.normal(size=(3, 6)).astype("float32")
        baseline = rng.normal(size=(4, 6)).astype("float32")
        weight = rng.random((4, 6)).astype("float32")
        loss, entropy = ac.actor_loss(features, actions, target, baseline, weight)
        loss, entropy = ops.convert_to_numpy(loss), ops.convert_to_numpy(entropy)
        logp = _log_softmax(ops.convert_to_numpy(ac.actor(features[:-1])).astype("float64"))
        ent = -(np.exp(logp) * logp).sum(-1)
        objective = (logp * actions).sum(-1) * (target - baseline[:-1]) + 0.01 * ent
        self.assertAllClose(loss, -(weight[:-1] * objective).mean(), atol=1e-5)
        self.assertAllClose(entropy, ent.mean(), atol=1e-5)
        value = ops.convert_to_numpy(ac.critic(features[:-1]))
        expected = (weight[:-1] * 0.5 * (value - target) ** 2).mean()
        critic_loss = ops.convert_to_numpy(ac.critic_loss(features, target, weight))
        self.assertAllClose(critic_loss, expected, atol=1e-5)

    def test_sampled_actions_are_one_hot_with_straight_through_gradient(self):
        ac = self._ac()
        logits = keras.Variable(np.random.default_rng(1).normal(size=(6, 3)).astype("float32"))
        w = np.random.default_rng(2).normal(size=(6, 3)).astype("float32")
        noise = ac.action_noise((6,))
        action = ops.convert_to_numpy(ac.sample_action(logits, noise=noise))
        self.assertAllClose(np.sort(action, -1), np.tile([0.0, 0.0, 1.0], (6, 1)))
        _, (grad,) = value_and_grad(
            lambda: ops.sum(ac.sample_action(logits, noise=noise) * ops.convert_to_tensor(w)),
            [logits],
        )
        # The reference: the gradient of sum_a w_a * softmax(logits)_a, by hand.
        p = ops.convert_to_numpy(ops.softmax(logits, axis=-1))
        self.assertAllClose(grad, p * (w - (p * w).sum(-1, keepdims=True)), atol=1e-6)
        greedy = ops.convert_to_numpy(ac.sample_action(logits, sample=False))
        self.assertAllEqual(np.argmax(greedy, -1), np.argmax(ops.convert_to_numpy(logits), -1))

    def test_config_round_trip_and_errors(self):
        ac = self._ac(horizon=7)
        restored = ActorCritic.from_config(ac.get_config())
        self.assertEqual(restored.get_config(), ac.get_config())
        self.assertEqual(restored.actor_grad, "reinforce")
        with self.assertRaisesRegex(ValueError, "actor_grad"):
            ActorCritic(3, actor_grad="ppo")
        with self.assertRaisesRegex(ValueError, "horizon"):
            ActorCritic(3, horizon=0)

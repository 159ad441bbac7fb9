import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_suite.ops import lambda_returns
from keras_suite.testing import TestCase
from keras_suite.zoo import DreamerV2

SMALL = dict(
    depth=2,
    deter_size=8,
    stoch_size=2,
    num_classes=3,
    hidden_size=8,
    mlp_units=8,
    mlp_layers=1,
    horizon=3,
    target_update_every=2,
    model_lr=3e-3,
    seed=0,
)

# Tracing a graph costs TensorFlow more than these few steps; JAX runs them faster compiled.
EAGER = keras.config.backend() != "jax"


def _batch(batch=2, steps=4, actions=3, seed=0):
    rng = np.random.default_rng(seed)
    is_first = np.zeros((batch, steps), "float32")
    is_first[:, 0] = 1
    return {
        # Bright frames with a little noise: a learnable signal far above the noise floor.
        "image": rng.integers(180, 220, (batch, steps, 64, 64, 1)).astype("uint8"),
        "action": np.eye(actions, dtype="float32")[rng.integers(0, actions, (batch, steps))],
        "reward": rng.normal(size=(batch, steps)).astype("float32"),
        "is_first": is_first,
        "is_terminal": np.zeros((batch, steps), "float32"),
    }


class DreamerV2Test(TestCase):
    @pytest.mark.slow
    def test_fit_trains_world_model_and_copies_target_critic(self):
        keras.utils.set_random_seed(0)
        agent = DreamerV2(num_actions=3, **SMALL)
        agent.compile(run_eagerly=EAGER)
        critic = agent.actor_critic.critic
        target = agent.actor_critic.target_critic
        dataset = tf.data.Dataset.from_tensors(_batch()).repeat()
        history = agent.fit(dataset, steps_per_epoch=2, epochs=2, verbose=0)
        losses = history.history["image_loss"]
        self.assertLess(losses[-1], losses[0])
        for key in ("actor_loss", "critic_loss", "kl", "imagined_return", "actor_entropy"):
            self.assertTrue(np.isfinite(history.history[key][-1]), key)
        # 4 updates with a copy every 2 (before the 1st and 3rd): the target critic lags the
        # critic by one update.
        self.assertEqual(float(agent.actor_critic.updates), 4.0)
        differs = [
            np.abs(ops.convert_to_numpy(t) - ops.convert_to_numpy(c)).max()
            for t, c in zip(target.weights, critic.weights)
        ]
        self.assertGreater(max(differs), 0.0)
        agent.actor_critic.update_target()  # the 5th call (updates == 4) copies
        for t, c in zip(target.weights, critic.weights):
            self.assertAllClose(t, c)

    def test_returns_and_weights_match_reference(self):
        agent = DreamerV2(num_actions=3, discount=0.9, lambda_=0.8, **SMALL)
        ac, wm = agent.actor_critic, agent.world_model
        features = np.random.default_rng(0).normal(size=(4, 5, wm.rssm.feature_size))
        features = features.astype("float32")
        start_discount = np.array([1, 1, 0, 1, 1], "float32")
        target, value, weight = ac.returns(
            features, wm.reward_head, wm.discount_head, start_discount
        )
        reward = ops.convert_to_numpy(wm.reward_head(features))
        disc = 0.9 / (1 + np.exp(-ops.convert_to_numpy(wm.discount_head(features))))
        disc[0] = 0.9 * start_discount
        v = ops.convert_to_numpy(ac.target_critic(features))
        expected = lambda_returns(reward[1:].T, v[:-1].T, disc[1:].T, v[-1], 0.8)
        self.assertAllClose(target, ops.convert_to_numpy(expected).T, atol=1e-5)
        self.assertAllClose(weight[0], np.ones(5))
        self.assertAllClose(weight[2], disc[0] * disc[1], atol=1e-6)

    def test_policy_and_saving_round_trip(self):
        agent = DreamerV2(num_actions=3, **SMALL)
        data = _batch()
        restored = self.run_model_saving_test(agent, (data,), atol=1e-5)
        obs = {"image": data["image"][:, 0], "is_first": np.ones(2)}
        greedy, state = agent.policy(obs)
        greedy2, _ = restored.policy(obs)
        self.assertAllClose(greedy, greedy2)
        self.assertAllClose(greedy.sum(-1), np.ones(2))
        # The greedy action is the actor's argmax on the posterior features.
        features = agent.rssm.features(state[0])
        self.assertAllEqual(
            np.argmax(greedy, -1), np.argmax(ops.convert_to_numpy(agent.actor_critic(features)), -1)
        )
        sampled, _ = agent.policy(obs, state, training=True)
        self.assertEqual(sampled.shape, (2, 3))

    def test_preset_round_trip(self):
        agent = DreamerV2(num_actions=3, **SMALL)
        folder = os.path.join(self.get_temp_dir(), "preset")
        agent.save_to_preset(folder, metadata={"env": "test"})
        restored = DreamerV2.from_preset(folder)
        data = _batch()
        self.assertAllClose(restored(data)["image"], agent(data)["image"], atol=1e-5)

    @pytest.mark.slow
    def test_vector_observations_train_and_round_trip(self):
        keras.utils.set_random_seed(0)
        agent = DreamerV2(obs_shape={"vector": (4,)}, num_actions=3, **SMALL)
        agent.compile(run_eagerly=EAGER)
        rng = np.random.default_rng(2)
        data = _batch()
        del data["image"]
        # A smooth, learnable state sequence (a CartPole-like state vector).
        data["vector"] = np.cumsum(rng.normal(size=(2, 4, 4)), axis=1).astype("float32")
        losses = [agent.train_on_batch(data, return_dict=True)["vector_loss"] for _ in range(6)]
        self.assertLess(np.mean(losses[-2:]), np.mean(losses[:2]))
        restored = self.run_model_saving_test(agent, (data,), atol=1e-5)
        self.assertEqual(restored.world_model.obs_shapes, {"vector": (4,)})
        obs = {"vector": data["vector"][:, 0], "is_first": np.ones(2)}
        greedy, state = agent.policy(obs)
        self.assertAllClose(restored.policy(obs)[0], greedy)
        features = agent.rssm.features(state[0])
        self.assertAllEqual(
            np.argmax(greedy, -1), np.argmax(ops.convert_to_numpy(agent.actor_critic(features)), -1)
        )
        with self.assertRaisesRegex(ValueError, "vector"):
            agent.policy({"image": np.zeros((2, 64, 64, 1), "uint8"), "is_first": np.ones(2)})

    def test_minatar_grids_train_act_and_round_trip(self):
        keras.utils.set_random_seed(0)
        agent = DreamerV2.from_hparams("minatar", (10, 10, 4), 3, **SMALL)
        self.assertEqual(agent.world_model.image_dist, "bernoulli")
        self.assertEqual(agent.actor_critic.discount, 0.99)
        agent.compile(run_eagerly=EAGER)
        data = _batch()
        rng = np.random.default_rng(3)
        data["image"] = (rng.random((2, 4, 10, 10, 4)) < 0.2).astype("uint8")
        losses = [agent.train_on_batch(data, return_dict=True)["image_loss"] for _ in range(6)]
        self.assertLess(np.mean(losses[-2:]), np.mean(losses[:2]))
        restored = self.run_model_saving_test(agent, (data,), atol=1e-5)
        self.assertEqual(restored.world_model.image_dist, "bernoulli")
        obs = {"image": data["image"][:, 0], "is_first": np.ones(2)}
        greedy, state = agent.policy(obs)
        self.assertAllClose(restored.policy(obs)[0], greedy)
        # The policy sees the cells as the world model's preprocessing does (0 or 1).
        inputs = agent.world_model.preprocess({k: v[:, :1] for k, v in data.items()})
        posterior, _ = agent.world_model.observe(inputs, sample=False)
        self.assertAllClose(
            ops.convert_to_numpy(state[0]["stoch"]),
            ops.convert_to_numpy(posterior["stoch"][:, 0]),
            atol=1e-5,
        )

    @pytest.mark.slow
    def test_continuous_actions_use_dynamics_backprop(self):
        agent = DreamerV2(num_actions=2, continuous_actions=True, **SMALL)
        self.assertEqual(agent.actor_critic.actor_grad, "dynamics")
        agent.compile(run_eagerly=EAGER)
        before = [ops.convert_to_numpy(v) for v in agent.actor_critic.actor.trainable_variables]
        data = _batch(actions=2)
        data["action"] = np.random.default_rng(1).uniform(-1, 1, (2, 4, 2)).astype("float32")
        logs = agent.train_on_batch(data, return_dict=True)
        self.assertTrue(np.isfinite(logs["actor_loss"]))
        after = agent.actor_critic.actor.trainable_variables
        self.assertGreater(
            max(np.abs(a - ops.convert_to_numpy(b)).max() for a, b in zip(before, after)), 0
        )
        actions, _ = agent.policy(
            {"image": data["image"][:, 0], "is_first": np.ones(2)}, None, True
        )
        self.assertTrue(np.all(np.abs(actions) <= 1.0))

    def test_hparams_and_errors(self):
        agent = DreamerV2.from_hparams("tiny", (64, 64, 1), 4)
        self.assertEqual(agent.world_model.deter_size, 64)
        self.assertEqual(agent.get_config()["kl_scale"], 0.1)
        with self.assertRaisesRegex(ValueError, "obs_shape"):
            DreamerV2(obs_shape=(32, 32), **SMALL)
        with self.assertRaisesRegex(ValueError, "Unknown DreamerV2 config"):
            DreamerV2.from_hparams("huge", (64, 64, 1), 4)
        with self.assertRaisesRegex(ValueError, "obs"):
            agent.policy({"image": np.zeros((1, 32, 32, 1), "uint8"), "is_first": [1]})
        keras.utils.clear_session()

import numpy as np

from keras_suite.envs import PixelCartPole
from keras_suite.envs.atari import Atari
from keras_suite.testing import TestCase
from keras_suite.zoo import DreamerV2


class DreamerV2PresetTest(TestCase):
    def test_builtin_pong_preset_loads_offline_and_models_pong(self):
        self.assertIn("tiny_pong", DreamerV2.presets)
        agent = DreamerV2.from_preset("tiny_pong")
        fresh = DreamerV2.from_preset("tiny_pong", load_weights=False)
        env = Atari("pong", seed=0)
        obs = env.reset()
        images, actions, state = [obs["image"]], [np.zeros(6, "float32")], None
        for t in range(16):
            batch = {"image": obs["image"][None], "is_first": np.array([t == 0])}
            action, state = agent.policy(batch, state, training=False)
            obs = env.step(action[0])
            images.append(obs["image"])
            actions.append(action[0])
        data = {
            "image": np.stack(images)[None],
            "action": np.stack(actions)[None],
            "reward": np.zeros((1, 17), "float32"),
            "is_first": np.eye(1, 17, dtype="float32"),
            "is_terminal": np.zeros((1, 17), "float32"),
        }
        # The trained world model reconstructs real Pong frames far better than a fresh one.
        target = data["image"].astype("float32") / 255 - 0.5
        trained_error = np.mean((np.asarray(agent(data)["image"]) - target) ** 2)
        fresh_error = np.mean((np.asarray(fresh(data)["image"]) - target) ** 2)
        self.assertLess(trained_error, 0.1 * fresh_error)

    def test_builtin_cartpole_preset_balances_the_pole(self):
        agent = DreamerV2.from_preset("tiny_cartpole_pixels")
        env = PixelCartPole(seed=50_000)
        returns = []
        for _ in range(3):
            obs, state, total = env.reset(), None, 0.0
            while not obs["is_last"]:
                batch = {"image": obs["image"][None], "is_first": np.array([obs["is_first"]])}
                action, state = agent.policy(batch, state, training=False)
                obs = env.step(action[0])
                total += obs["reward"]
            returns.append(total)
        # A uniformly random policy scores about 20 (benchmarks/dreamer_learning.py).
        self.assertGreater(np.mean(returns), 60.0, returns)

import json
import os
import time

import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.zoo import DreamerV2
from keras_suite.zoo.dreamer.trainer import Trainer

# Tracing a graph costs TensorFlow more than these few steps; JAX runs them faster compiled.
EAGER = keras.config.backend() != "jax"


class _BlinkEnv:
    """A fast pixel env: the action chosen lights a band of the image; action 1 pays 1."""

    num_actions = 2

    def __init__(self, length=12):
        self.length, self.t = length, 0

    def _obs(self, action, first=False):
        image = np.zeros((64, 64, 1), np.uint8)
        image[:, 32 * action : 32 * action + 32] = 255
        last = self.t >= self.length
        return dict(
            image=image,
            reward=np.float32(action == 1 and not first),
            is_first=first,
            is_last=last,
            is_terminal=last,
        )

    def reset(self):
        self.t = 0
        return self._obs(0, first=True)

    def step(self, action):
        self.t += 1
        return self._obs(int(np.argmax(action)))


def _agent():
    agent = DreamerV2(
        num_actions=2,
        depth=2,
        deter_size=8,
        stoch_size=2,
        num_classes=3,
        hidden_size=8,
        mlp_units=8,
        mlp_layers=1,
        horizon=3,
        seed=0,
    )
    agent.compile(run_eagerly=EAGER)
    return agent


LOOP = dict(
    batch_size=2,
    seq_len=5,
    train_every=10,
    prefill=20,
    eval_every=30,
    eval_episodes=1,
    log_every=10,
    checkpoint_every=1000,
)


@pytest.mark.slow
def test_train_checkpoint_and_exact_resume(tmp_path):
    agent = _agent()
    trainer = Trainer(agent, _BlinkEnv(), tmp_path, **LOOP).run(40)
    assert trainer.step == 40 and trainer.updates == 2
    assert len(os.listdir(tmp_path / "replay")) >= 2
    for name in ("30.gif", "30.png"):
        assert (tmp_path / "videos" / name).is_file()
    rows = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    assert any("train/image_loss" in r for r in rows) and any("eval/return" in r for r in rows)
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path))

    resumed_agent = _agent()
    resumed = Trainer(resumed_agent, _BlinkEnv(), tmp_path, **LOOP)
    assert (resumed.step, resumed.updates, resumed.episodes) == (40, 2, trainer.episodes)
    assert resumed.seconds == trainer.seconds > 0
    assert resumed.replay.num_steps == trainer.replay.num_steps
    for a, b in zip(
        agent.variables + agent.optimizer_variables,
        resumed_agent.variables + resumed_agent.optimizer_variables,
    ):
        np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
    # The replay sampler's RNG is restored too: the next sampled batch is the same.
    expected, batch = trainer.replay.sample_batch(), resumed.replay.sample_batch()
    assert sorted(batch) == sorted(expected)
    for key in expected:
        np.testing.assert_array_equal(batch[key], expected[key])
    started = time.time()
    assert resumed.run(50).updates == 3
    assert trainer.seconds < resumed.seconds <= trainer.seconds + time.time() - started


class _KilledEnv(_BlinkEnv):
    """Raises KeyboardInterrupt (as Ctrl-C would) at step `kill_at` of the run."""

    def __init__(self, kill_at):
        super().__init__(length=12)
        self.kill_at, self.steps = kill_at, 0

    def step(self, action):
        self.steps += 1
        if self.steps == self.kill_at:
            raise KeyboardInterrupt
        return super().step(action)


def test_kill_writes_unfinished_episode_and_checkpoint(tmp_path):
    loop = dict(LOOP, prefill=1000, checkpoint_every=1000)  # no training, no periodic saves
    with pytest.raises(KeyboardInterrupt):
        Trainer(_agent(), _KilledEnv(kill_at=18), tmp_path, **loop).run(100)
    # 17 steps were played: one finished episode (13 frames) and 5 steps of the next (6 frames).
    lengths = sorted(int(name[:-4].rsplit("-", 1)[1]) for name in os.listdir(tmp_path / "replay"))
    assert lengths == [6, 13]
    resumed = Trainer(_agent(), _BlinkEnv(), tmp_path, **loop)
    assert (resumed.step, resumed.episodes, resumed.replay.num_steps) == (17, 1, 19)


@pytest.mark.slow
def test_several_environments_stepped_together(tmp_path):
    envs = [_BlinkEnv(length=12), _BlinkEnv(length=7)]
    loop = dict(LOOP, eval_every=1000)
    trainer = Trainer(_agent(), envs, tmp_path, **loop).run(60)
    # 30 steps each: the 12-step env ends 2 episodes, the 7-step one 4; acting is batched.
    assert (trainer.step, trainer.episodes) == (60, 6)
    lengths = sorted(int(n[:-4].rsplit("-", 1)[1]) for n in os.listdir(tmp_path / "replay"))
    # Finished episodes hold length + 1 frames; `run` wrote the unfinished ones at the end.
    assert lengths == [3, 7, 8, 8, 8, 8, 13, 13]
    assert trainer.updates == 4  # every 10 steps once 20 are in the replay
    with pytest.raises(ValueError, match="same number of actions"):
        other = _BlinkEnv()
        other.num_actions = 3
        Trainer(_agent(), [_BlinkEnv(), other], tmp_path / "other", **loop)


def test_exploration_takes_random_actions_and_the_policy_state_follows_them(tmp_path):
    envs = [_BlinkEnv(), _BlinkEnv()]
    loop = dict(LOOP, prefill=0, train_every=1000, eval_every=1000)
    loop.update(explore=0.4, explore_min=0.05, explore_half_life=10)
    trainer = Trainer(_agent(), envs, tmp_path, **loop)
    rates = []
    for step in (0, 10, 20, 30, 1000):
        trainer.step = step
        rates.append(trainer.exploration_rate)
    assert rates == pytest.approx([0.4, 0.2, 0.1, 0.05, 0.05])

    trainer.explore = 0.0
    trainer.step = 0
    trainer.run(26)  # an episode of each environment in the replay: the prefill is over
    assert trainer.prefill_done
    trainer.explore = trainer.explore_min = 1.0  # every action random
    observations = [env.reset() for env in envs]
    rng = np.random.default_rng()
    rng.bit_generator.state = trainer._rng.bit_generator.state
    # One draw per environment says whether its action is random, then one per random action.
    assert all(rng.random() < 1.0 for _ in envs)
    expected = [np.eye(2, dtype=np.float32)[rng.integers(2)] for _ in envs]
    actions, (_, taken) = trainer._act(observations, None)
    np.testing.assert_array_equal(np.stack(actions), np.stack(expected))
    np.testing.assert_array_equal(ops.convert_to_numpy(taken), np.stack(expected))
    with pytest.raises(ValueError, match="explore_min <= explore"):
        Trainer(_agent(), _BlinkEnv(), tmp_path / "bad", **dict(LOOP, explore_min=0.5))


@pytest.mark.slow
def test_vector_observations_gym_cartpole(tmp_path):
    from keras_suite.envs import GymAdapter

    env = GymAdapter("CartPole-v1", seed=0)
    agent = DreamerV2(
        obs_shape={"vector": (4,)},
        num_actions=2,
        deter_size=8,
        stoch_size=2,
        num_classes=3,
        hidden_size=8,
        mlp_units=8,
        mlp_layers=1,
        horizon=3,
        seed=0,
    )
    agent.compile(run_eagerly=EAGER)
    trainer = Trainer(agent, env, tmp_path, **LOOP).run(60)
    assert trainer.updates >= 1  # trains once a random episode has ended
    batch = trainer.replay.sample_batch()
    assert batch["vector"].shape == (2, 5, 4) and "image" not in batch
    rows = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    assert any(np.isfinite(r.get("train/vector_loss", np.nan)) for r in rows)
    assert any(np.isfinite(r.get("eval/return", np.nan)) for r in rows)  # no video: no images


def test_checkpoint_from_another_config_is_refused(tmp_path):
    agent = _agent()
    Trainer(agent, _BlinkEnv(), tmp_path, **LOOP).save()
    other = DreamerV2(
        num_actions=2,
        depth=2,
        deter_size=8,
        stoch_size=2,
        num_classes=3,
        hidden_size=8,
        mlp_units=8,
        mlp_layers=2,
        horizon=3,
    )
    other.compile(run_eagerly=EAGER)
    with pytest.raises(ValueError, match="another config"):
        Trainer(other, _BlinkEnv(), tmp_path, **LOOP)

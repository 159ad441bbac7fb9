import json
import os

import numpy as np
import pytest

from keras_suite.zoo import DreamerV2
from keras_suite.zoo.dreamer.trainer import Trainer


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
    agent.compile(run_eagerly=True)
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
    assert resumed.replay.num_steps == trainer.replay.num_steps
    for a, b in zip(
        agent.variables + agent.optimizer_variables,
        resumed_agent.variables + resumed_agent.optimizer_variables,
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert resumed.run(50).updates == 3


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
    other.compile(run_eagerly=True)
    with pytest.raises(ValueError, match="another config"):
        Trainer(other, _BlinkEnv(), tmp_path, **LOOP)

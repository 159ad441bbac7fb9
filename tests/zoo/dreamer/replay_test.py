import os

import numpy as np
import pytest

from keras_suite.zoo.dreamer.replay import EpisodeReplay


def _play(replay, length, value, actions=3):
    for t in range(length + 1):
        obs = {
            "image": np.full((4, 4, 1), value, np.uint8),
            "reward": float(t),
            "is_first": t == 0,
            "is_last": t == length,
            "is_terminal": t == length,
        }
        replay.add(obs, np.zeros(actions) if t == 0 else np.eye(actions)[t % actions])


def test_episodes_go_to_disk_reload_and_sample(tmp_path):
    replay = EpisodeReplay(tmp_path, seq_len=6, batch_size=3, seed=0)
    _play(replay, 9, value=1)
    _play(replay, 4, value=2)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2 and all(f.endswith(".npz") for f in files)
    assert replay.num_steps == 15 and replay.num_episodes == 2
    reloaded = EpisodeReplay(tmp_path, seq_len=6, batch_size=3, seed=1)
    assert reloaded.num_steps == 15
    batch = reloaded.sample_batch()
    assert batch["image"].shape == (3, 6, 4, 4, 1) and batch["action"].shape == (3, 6, 3)
    for b in range(3):
        seq = {k: v[b] for k, v in batch.items()}
        assert seq["is_first"][0]
        for t in range(1, 6):
            if seq["is_first"][t]:  # a new episode starts: reward restarts at 0, no action
                assert seq["reward"][t] == 0 and not seq["action"][t].any()
            else:  # consecutive steps of one episode
                assert seq["reward"][t] == seq["reward"][t - 1] + 1
                assert seq["image"][t, 0, 0, 0] == seq["image"][t - 1, 0, 0, 0]


def test_capacity_bounds_memory_but_keeps_files(tmp_path):
    replay = EpisodeReplay(tmp_path, capacity=12, seq_len=2, batch_size=1)
    for value in range(4):
        _play(replay, 4, value)
    assert replay.num_steps == 10 and replay.num_episodes == 2
    assert len(os.listdir(tmp_path)) == 4
    dataset = replay.dataset()
    assert next(iter(dataset))["image"].shape == (1, 2, 4, 4, 1)


def test_empty_replay_error(tmp_path):
    with pytest.raises(ValueError, match="no finished episode"):
        EpisodeReplay(tmp_path).sample()

"""Test helper: oracle episodes of our `RavensEnv` written as the original Ravens writes them.

Facts from the original (google-research/ravens): ravens/demos.py records `(obs, act, reward,
info)` before each action, with the reward and info of the action before it (0 and `None` for
the first), then one record after the last action whose action is `None`; it keeps only
successful episodes, seeds counting up by 2 from 0 (train) or 1 (test), in the folder
`<data_dir>/<task>-<mode>`. ravens/dataset.py (`Dataset.add`) pickles each field of an episode
into `<field>/{episode index:06d}-{seed}.pkl`, colour stacked as uint8 `(records, 3, H, W, 3)`
and depth as float32 `(records, 3, H, W)`. The original ran on Python 3.7 with numpy 1, so the
pickles here use protocol 3 (3.7's default) and numpy 1's module name `numpy.core`.
"""

import os
import pickle

import numpy as np

from keras_suite.envs import ravens


def record_episode(env, seed, agent_seed=0):
    """One oracle episode as the records of ravens/demos.py; each `obs` is our observation."""
    agent = ravens.OracleAgent(env, seed=agent_seed)
    obs, info = env.reset(seed=seed)
    records, reward, last_info = [], 0.0, None
    while True:
        action = agent.act(obs, info)
        records.append((obs, action, reward, last_info))
        if action is None:
            return records, info["success"]
        obs, reward, terminated, truncated, info = env.step(action)
        last_info = dict(info)
        if terminated or truncated:
            records.append((obs, None, reward, last_info))
            return records, info["success"]


def dump(data, path):
    """Pickles `data` into `path` as Python 3.7 with numpy 1 did."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(pickle.dumps(data, protocol=3).replace(b"cnumpy._core.", b"cnumpy.core."))


def write_episode(split_folder, index, seed, records):
    """Writes one episode's records as `Dataset.add` of ravens/dataset.py does."""
    fields = {
        "color": np.uint8([obs["color"] for obs, _, _, _ in records]),
        "depth": np.float32([obs["depth"] for obs, _, _, _ in records]),
        "action": [action for _, action, _, _ in records],
        "reward": [reward for _, _, reward, _ in records],
        "info": [info for _, _, _, info in records],
    }
    for field, data in fields.items():
        dump(data, os.path.join(split_folder, field, f"{index:06d}-{seed}.pkl"))


def write_split(data_dir, env, split, n):
    """Writes `n` successful oracle episodes of `env`'s task as ravens/demos.py does.

    Returns:
        `{seed: records}` of the episodes written.
    """
    folder = os.path.join(data_dir, f"{env.task.name}-{split}")
    written = {}
    seed = 0 if split == "train" else 1
    while len(written) < n:
        records, success = record_episode(env, seed)
        if success:
            write_episode(folder, len(written), seed, records)
            written[seed] = records
        seed += 2
    return written

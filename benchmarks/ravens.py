"""Ravens demonstration speed: demos/min per task, against a Ravens-style pipeline.

For each task, collects the same training seeds twice in the same process:

- keras-suite: physics at 120 Hz, one render of the three cameras per action (the oracle reads
  the fused map's body ids from it), one compressed `.npz` of fused maps per episode;
- Ravens-style baseline: what the original does per action on top, run with this code: physics
  at 240 Hz, an extra near-orthographic top-down render for the oracle, and every step's raw
  camera frames (3 x colour + depth, ~6 MB) written to disk.

Prints demos/min for both and the speed-up. (The original Ravens itself needs TF 2.3, gym 0.17
and Python 3.7, so it cannot run here; its published rate on this class of CPU is 1 to 19
episodes/min depending on the task.)

    .venv/bin/python benchmarks/ravens.py [--tasks block-insertion ...] [--episodes 2]
"""

import argparse
import os
import tempfile
import time

import numpy as np
import pybullet as p

from keras_suite.envs import ravens
from keras_suite.envs.ravens import cameras, demonstrations
from keras_suite.envs.ravens.environment import RavensEnv
from keras_suite.envs.ravens.tasks import TASK_CLASSES

#: Ravens' oracle camera: straight down from 1000 m with a 63e4-pixel focal length.
TOP_DOWN = cameras.Camera(
    "oracle",
    (480, 640),
    (63e4, 0.0, 320.0, 0.0, 63e4, 240.0, 0.0, 0.0, 1.0),
    (0.5, 0.0, 1000.0),
    tuple(p.getQuaternionFromEuler((0.0, np.pi, -np.pi / 2))),
    (999.7, 1001.0),
)


class _RavensStyleAgent:
    """The oracle plus the original's per-action extras: a top-down render, raw frames saved."""

    def __init__(self, env, folder):
        self.oracle = ravens.OracleAgent(env)
        self.env = env
        self.folder = folder

    def act(self, observation, info):
        cameras.render(self.env.client, TOP_DOWN)
        path = os.path.join(self.folder, "frames.npy")  # rewritten each step: same cost
        np.save(path, {"color": observation["color"], "depth": observation["depth"]})
        return self.oracle.act(observation, info)


def _rate(env, agent, episodes):
    start = time.perf_counter()
    for i in range(episodes):
        demonstrations.run_episode(env, agent, demonstrations.episode_seed("train", i))
    return episodes / (time.perf_counter() - start) * 60


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(ravens.TASKS), choices=ravens.TASKS)
    parser.add_argument("--episodes", type=int, default=2)
    args = parser.parse_args()
    print(f"{'task':22s} {'keras-suite':>14s} {'Ravens-style':>14s} {'speed-up':>9s}")
    for task in args.tasks:
        with tempfile.TemporaryDirectory() as folder:
            env = ravens.make(task)
            start = time.perf_counter()
            demonstrations.collect(env, ravens.OracleAgent(env), args.episodes, folder, log=None)
            ours = args.episodes / (time.perf_counter() - start) * 60
            env.close()
            baseline_env = RavensEnv(TASK_CLASSES[task](), time_step=1.0 / 240.0)
            baseline = _rate(baseline_env, _RavensStyleAgent(baseline_env, folder), args.episodes)
            baseline_env.close()
        print(f"{task:22s} {ours:9.1f}/min {baseline:9.1f}/min {ours / baseline:8.2f}x", flush=True)


if __name__ == "__main__":
    main()

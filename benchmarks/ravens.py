"""Ravens demonstration speed: successful oracle demos per minute, per task.

Collects training demonstrations of each task with keras-suite's environment and oracle
(`keras_suite.envs.ravens.demonstrations.collect`: one render of the three cameras per action,
one compressed `.npz` of fused maps per episode) and prints demos/min.

With `--original PATH` (an extracted checkout of google-research/ravens, imported at run time,
never a dependency) it also runs the original side by side at its own settings: its
`Environment` at 480 Hz and its task's oracle, the episode loop of its ravens/demos.py (seeds
counting up by 2, episodes kept when their rewards sum over 0.99) and its `Dataset.add`, which
pickles every step's raw camera frames. The two alternate in rounds of `--episodes` episodes
so that a change in the machine's load falls on both; it prints the demos/min of each and the
speed-up. The original's TensorFlow agents are not imported; its `Dataset` imports TensorFlow.

    nice -n 10 .venv/bin/python benchmarks/ravens.py [--tasks block-insertion ...] \\
        [--episodes 2] [--rounds 2] [--original /tmp/ravens]
"""

import argparse
import importlib
import os
import sys
import tempfile
import time

import numpy as np

from keras_suite.envs import ravens
from keras_suite.envs.ravens import demonstrations


class Ours:
    """keras-suite's collection of `task`, resumable round after round into `folder`."""

    def __init__(self, task, folder):
        self.env = ravens.make(task)
        self.agent = ravens.OracleAgent(self.env)
        self.folder = folder
        self.wanted = 0

    def run(self, episodes):
        """Collects `episodes` more successful demos; returns `(successes, seconds)`."""
        self.wanted += episodes
        start = time.perf_counter()
        result = demonstrations.collect(self.env, self.agent, self.wanted, self.folder)
        return result["written"], time.perf_counter() - start

    def close(self):
        self.env.close()


class Original:
    """The original Ravens' demonstration loop (its ravens/demos.py) for `task`.

    Args:
        modules: `(Environment class, {task name: task class}, assets folder, Dataset class)`
            from `load_original`.
        task: a task name.
        folder: where its `Dataset` writes the episodes.
    """

    def __init__(self, modules, task, folder):
        environment_class, task_classes, assets, dataset_class = modules
        # Its demos.py: Environment(assets_root, disp=False, shared_memory=False, hz=480).
        self.env = environment_class(assets, disp=False, shared_memory=False, hz=480)
        self.task = task_classes[task]()
        self.task.mode = "train"
        self.agent = self.task.oracle(self.env)
        self.dataset = dataset_class(os.path.join(folder, f"{task}-train"))
        self.seed = -2

    def run(self, episodes):
        """Runs episodes until `episodes` succeed; returns `(successes, seconds)`."""
        start = time.perf_counter()
        successes = 0
        while successes < episodes:
            self.seed += 2
            np.random.seed(self.seed)
            self.env.set_task(self.task)
            observation = self.env.reset()
            info, reward, total, episode = None, 0.0, 0.0, []
            for _ in range(self.task.max_steps):
                action = self.agent.act(observation, info)
                episode.append((observation, action, reward, info))
                observation, reward, done, info = self.env.step(action)
                total += reward
                if done:
                    break
            episode.append((observation, None, reward, info))
            if total > 0.99:
                self.dataset.add(self.seed, episode)
                successes += 1
        return successes, time.perf_counter() - start

    def close(self):
        self.env.close()


def load_original(path):
    """The original's `(Environment, task classes, assets folder, Dataset)` from `path`."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    fidelity = importlib.import_module("ravens_fidelity")
    environment_class, task_classes, assets = fidelity.load_original(path)
    dataset_class = importlib.import_module("ravens.dataset").Dataset
    return environment_class, task_classes, assets, dataset_class


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(ravens.TASKS), choices=ravens.TASKS)
    parser.add_argument("--episodes", type=int, default=2, help="successful demos per round")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--original", help="an extracted google-research/ravens checkout")
    args = parser.parse_args(argv)
    if args.episodes < 1 or args.rounds < 1:
        raise SystemExit("--episodes and --rounds must be at least 1.")
    modules = load_original(args.original) if args.original else None
    header = f"{'task':22s} {'keras-suite':>14s}"
    if modules:
        header += f" {'original':>14s} {'speed-up':>9s}"
    print(header)
    for task in args.tasks:
        with tempfile.TemporaryDirectory() as folder:
            # The original drives pybullet's default client: it connects first.
            runners = [Original(modules, task, folder)] if modules else []
            runners.insert(0, Ours(task, folder))
            counts, seconds = [0] * len(runners), [0.0] * len(runners)
            for _ in range(args.rounds):
                for i, runner in enumerate(runners):
                    done, spent = runner.run(args.episodes)
                    counts[i] += done
                    seconds[i] += spent
            for runner in runners:
                runner.close()
        rates = [count / spent * 60 for count, spent in zip(counts, seconds)]
        line = f"{task:22s} {rates[0]:9.2f}/min"
        if modules:
            line += f" {rates[1]:9.2f}/min {rates[0] / rates[1]:8.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()

"""DreamerV2's training loop: prefill, train ratio, evaluation, checkpoints that resume."""

import json
import os
import time

import numpy as np
from keras import ops

from keras_suite.zoo.dreamer.evaluate import evaluate, observation_batch
from keras_suite.zoo.dreamer.replay import EpisodeReplay
from keras_suite.zoo.dreamer.variable_checkpoint import load_checkpoint, save_checkpoint
from keras_suite.zoo.dreamer.video import save_video_prediction


def _one_hot(index, size):
    action = np.zeros(size, np.float32)
    action[index] = 1.0
    return action


class Trainer:
    """Trains a `DreamerV2` agent in an environment, resumable from its `logdir`.

    The loop plays `prefill` random steps, then acts with the agent and runs `train_steps`
    gradient steps every `train_every` environment steps on `(batch_size, seq_len)` sequences
    from an `EpisodeReplay` in `logdir/replay`. Every `eval_every` steps it plays
    `eval_episodes` greedy episodes on `eval_env` and writes an open-loop video prediction (5
    context frames, the rest imagined) to `logdir/videos`. Scalars (the updates' losses, every
    finished episode's return and length at the step where it ended, the evaluations) go to
    TensorBoard (`logdir`) and to `logdir/metrics.jsonl`. Every `checkpoint_every` steps and
    when `run` stops (at the end, on Ctrl-C or SIGTERM), the agent's and its optimizers'
    variables, the counters and the states of the action and replay-sampling RNGs are written
    to `logdir/checkpoint` (the counters: `step`, `updates`, `episodes` and `seconds`, the
    wall time spent in `run`), after the unfinished episode is written to the replay; a new
    `Trainer` on the same `logdir` resumes from there, with the replay reloaded from disk, and
    samples the same batches the old one would have. Observations may hold images and/or
    vectors: the replay stores the agent's observation keys.

    Args:
        agent: a `DreamerV2`, compiled (or it is compiled with `jit_compile`).
        env: a gymnasium environment seen through `keras_suite.envs.GymAdapter` (`reset`,
            `step` and `num_actions`; `keras_suite.zoo.dreamer.make_env` makes them by name),
            or a list of such environments, stepped together: the agent acts
            for all of them in one batched policy call, each keeps its own episodes in the
            replay, and every step of every environment counts as one step.
        logdir: output folder.
        eval_env: environment for evaluation (default: `env`, or the first of the list).
        batch_size, seq_len, train_every, train_steps, prefill, replay_capacity, eval_every,
            eval_episodes, log_every, checkpoint_every: the loop settings (see
            `keras_suite.zoo.dreamer.configs`).
        explore, explore_min, explore_half_life: epsilon-greedy exploration for discrete
            actions (`exploration_rate`): after the prefill, each action is uniformly random
            with probability `explore`, halved every `explore_half_life` environment steps
            down to `explore_min`. 0 (DreamerV2's Atari setting) leaves exploration to the
            actor's sampling and entropy bonus. Evaluations are never random.
        jit_compile: compile the train step with XLA.
        seed: seed of random actions and replay sampling.

    Example:

    ```python
    env = make_env("atari:pong")
    agent = DreamerV2.from_hparams("tiny", env.obs_shape, env.num_actions)
    Trainer(agent, env, "runs/pong", **get_config("tiny")["loop"]).run(steps=10_000)
    ```
    """

    def __init__(
        self,
        agent,
        env,
        logdir,
        eval_env=None,
        batch_size=16,
        seq_len=50,
        train_every=16,
        train_steps=1,
        prefill=50000,
        replay_capacity=2_000_000,
        eval_every=100_000,
        eval_episodes=1,
        log_every=10_000,
        checkpoint_every=100_000,
        explore=0.0,
        explore_min=0.0,
        explore_half_life=100_000,
        jit_compile=False,
        seed=0,
    ):
        self.agent = agent
        self.envs = list(env) if isinstance(env, (list, tuple)) else [env]
        if not self.envs or len({e.num_actions for e in self.envs}) != 1:
            raise ValueError(
                "`env` must be an environment or a non-empty list of environments with the same "
                f"number of actions. Received: num_actions={[e.num_actions for e in self.envs]}"
            )
        self.env = self.envs[0]
        self.eval_env = eval_env or self.env
        self.logdir = os.fspath(logdir)
        self.train_every = train_every
        self.train_steps = train_steps
        self.prefill = prefill
        self.eval_every = eval_every
        self.eval_episodes = eval_episodes
        self.log_every = log_every
        self.checkpoint_every = checkpoint_every
        if not 0.0 <= explore_min <= explore <= 1.0:
            raise ValueError(
                "`explore` and `explore_min` must satisfy 0 <= explore_min <= explore <= 1. "
                f"Received: explore={explore!r}, explore_min={explore_min!r}"
            )
        if explore and getattr(self.env, "continuous", False):
            raise ValueError(
                "`explore` (random actions) is for discrete actions; this environment's are "
                f"continuous. Received: explore={explore!r}"
            )
        self.explore = explore
        self.explore_min = explore_min
        self.explore_half_life = explore_half_life
        os.makedirs(self.logdir, exist_ok=True)
        if getattr(agent, "model_optimizer", None) is None:
            agent.compile(jit_compile=jit_compile)
        self.replay = EpisodeReplay(
            os.path.join(self.logdir, "replay"),
            capacity=replay_capacity,
            seq_len=seq_len,
            batch_size=batch_size,
            seed=seed,
            obs_keys=agent.world_model.obs_keys,
        )
        self.step = 0
        self.updates = 0
        self.episodes = 0
        self.seconds = 0.0
        self._rng = np.random.default_rng(seed)
        self._metrics = {}
        self._writer = None
        self.restore()

    # Checkpoints.

    @property
    def checkpoint_dir(self):
        return os.path.join(self.logdir, "checkpoint")

    def _variables(self):
        return list(self.agent.variables) + list(self.agent.optimizer_variables)

    def save(self):
        """Writes the agent, its optimizers and the counters (atomically)."""
        state = {"step": self.step, "updates": self.updates, "episodes": self.episodes}
        state["seconds"] = self.seconds
        state["rng"] = self._rng.bit_generator.state
        state["replay_rng"] = self.replay.rng_state
        save_checkpoint(self.checkpoint_dir, self._variables(), state)

    def restore(self):
        """Loads the checkpoint in `logdir` if there is one; returns whether it did."""
        state = load_checkpoint(self.checkpoint_dir, self._variables())
        if state is None:
            return False
        self.step, self.updates, self.episodes = state["step"], state["updates"], state["episodes"]
        self._rng.bit_generator.state = state["rng"]
        self.seconds = state.get("seconds", 0.0)  # older checkpoints lack it
        if "replay_rng" in state:  # checkpoints written before it was saved lack it
            self.replay.rng_state = state["replay_rng"]
        return True

    # Logging.

    def _log(self, scalars):
        import tensorflow as tf
        from tensorflow.core.framework import summary_pb2

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.logdir)
        # `tf.summary.scalar` needs the tensorboard package; this writes the same event (a
        # float32 scalar tagged for the "scalars" plugin) with TensorFlow alone.
        metadata = summary_pb2.SummaryMetadata()
        metadata.plugin_data.plugin_name = "scalars"
        with self._writer.as_default():
            for key, value in scalars.items():
                tf.summary.write(key, tf.constant(value, tf.float32), self.step, metadata)
        self._writer.flush()
        with open(os.path.join(self.logdir, "metrics.jsonl"), "a") as f:
            f.write(json.dumps(dict(scalars, step=self.step)) + "\n")

    # The loop.

    def _act(self, observations, state):
        """Actions for a list of observations (one per environment) and the new policy state."""
        size = self.env.num_actions
        if not self.prefill_done:
            return [_one_hot(self._rng.integers(size), size) for _ in observations], None
        batch = observation_batch(self.agent, observations)
        actions, state = self.agent.policy(batch, state, training=True)
        actions = [np.asarray(action) for action in actions]
        if self.explore:
            random = [i for i in range(len(actions)) if self._rng.random() < self.exploration_rate]
            for i in random:
                actions[i] = _one_hot(self._rng.integers(size), size)
            if random:  # the next step's latent follows from the actions taken
                latent, _ = state
                state = (latent, ops.convert_to_tensor(np.stack(actions), "float32"))
        return actions, state

    @property
    def exploration_rate(self):
        """The probability that an action after the prefill is uniformly random instead of
        the actor's: `explore` halved every `explore_half_life` steps, at least
        `explore_min` (0 when `explore` is 0)."""
        if not self.explore:
            return 0.0
        rate = self.explore * 0.5 ** (self.step / self.explore_half_life)
        return max(self.explore_min, rate)

    @property
    def prefill_done(self):
        """Whether the random prefill is over (and an episode is in the replay to train on)."""
        return self.replay.num_steps >= self.prefill and self.replay.num_episodes > 0

    def train_once(self):
        """Runs `train_steps` gradient steps on replay batches; returns the last metrics."""
        for _ in range(self.train_steps):
            logs = self.agent.train_on_batch(self.replay.sample_batch(), return_dict=True)
            self.updates += 1
            for key, value in logs.items():
                self._metrics.setdefault(key, []).append(float(value))
        return logs

    def evaluate(self, episodes=None):
        """Plays greedy episodes with the agent; returns their mean return."""
        return evaluate(self.agent, self.eval_env, episodes or self.eval_episodes)["mean_return"]

    def write_video(self, name=None, length=50):
        """An open-loop video prediction on replay sequences (5 observed frames, the rest
        imagined) saved as GIF and PNG strip under `logdir/videos`; returns the paths."""
        seq_len = self.replay.seq_len
        self.replay.seq_len = length
        try:
            batch = self.replay.sample_batch()
        finally:
            self.replay.seq_len = seq_len
        batch = {k: v[:4] for k, v in batch.items()}
        truth, prediction = self.agent.world_model.video_prediction(batch, context=5)
        folder = os.path.join(self.logdir, "videos")
        os.makedirs(folder, exist_ok=True)
        return save_video_prediction(
            np.asarray(truth), np.asarray(prediction), os.path.join(folder, name or f"{self.step}")
        )

    def run(self, steps, progress=None):
        """Trains until `steps` environment steps in total (counting resumed ones).

        `progress`, when given, is called as `progress(step, steps, **values)` after every
        environment step, with `updates` (gradient updates so far) and, once there are some, the
        last finished episode's `return` and the last update's model `loss`.

        When the loop stops, also by Ctrl-C or SIGTERM (a kill), the unfinished episode is
        written to the replay and a checkpoint is saved, so a new `Trainer` on the same `logdir`
        resumes at the step where this one stopped without losing played steps (SIGKILL cannot
        be caught: it loses the steps since the last checkpoint).
        """
        restore_handler = _raise_on_sigterm()
        start = time.time()
        try:
            self._run(steps, progress)
        finally:
            self.seconds += time.time() - start
            self.replay.flush()
            self.save()
            restore_handler()
        return self

    def _run(self, steps, progress):
        # The policy state stays batched over the environments; an observation with `is_first`
        # resets its row inside `DreamerV2.policy`.
        observations = [self._reset(i) for i in range(len(self.envs))]
        returns, state, start = [0.0] * len(self.envs), None, time.time()
        lengths = [0] * len(self.envs)
        shown = {}
        while self.step < steps:
            actions, state = self._act(observations, state)
            for i, env in enumerate(self.envs):
                obs = env.step(actions[i])
                self.replay.add(obs, actions[i], worker=i)
                returns[i] += float(obs["reward"])
                lengths[i] += 1
                self.step += 1
                if obs["is_last"]:
                    self.episodes += 1
                    self._log(
                        {
                            "episode/return": returns[i],
                            "episode/length": lengths[i],
                            "episode/count": self.episodes,
                        }
                    )
                    shown["return"] = returns[i]
                    obs, returns[i], lengths[i] = self._reset(i), 0.0, 0
                observations[i] = obs
                ready = self.prefill_done
                if ready and self.step % self.train_every == 0:
                    shown["loss"] = float(self.train_once()["loss"])
                if self._metrics and self.step % self.log_every == 0:
                    scalars = {f"train/{k}": float(np.mean(v)) for k, v in self._metrics.items()}
                    scalars["train/fps"] = self.log_every / max(time.time() - start, 1e-9)
                    self._log(scalars)
                    self._metrics, start = {}, time.time()
                if ready and self.step % self.eval_every == 0:
                    self._log({"eval/return": self.evaluate()})
                    if self.agent.world_model.image_keys:
                        self.write_video()
                    if self.eval_env is self.env:  # evaluation ended the training episode
                        observations[0], returns[0], lengths[0] = self._reset(0), 0.0, 0
                if self.step % self.checkpoint_every == 0:
                    self.save()
                if progress is not None:
                    progress(self.step, steps, updates=self.updates, **shown)
                if self.step >= steps:
                    break

    def _reset(self, index):
        obs = self.envs[index].reset()
        self.replay.add(obs, np.zeros(self.env.num_actions, np.float32), worker=index)
        return obs


def _raise_on_sigterm():
    """Makes SIGTERM raise `SystemExit` (so `finally` blocks run); returns the undo function."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)

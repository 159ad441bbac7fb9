"""An episode replay on disk: compressed `.npz` episodes, fixed-length sequence samples."""

import collections
import datetime
import os
import uuid

import numpy as np

KEYS = ("action", "reward", "is_first", "is_terminal")


class EpisodeReplay:
    """Stores episodes as compressed `.npz` files and samples (batch, seq_len) sequences.

    Every finished episode is written at once to `directory` (so it survives a crash) and kept
    in memory while the stored steps stay within `capacity` (the oldest episodes leave memory
    first, their files stay). Pointed at a folder of episodes, e.g. a fixed dataset, it loads
    the newest `capacity` steps, which gives offline training. Sequences start at a uniformly
    random step; one that runs past its episode's end continues with the start of another
    random episode, marked by `is_first`, which resets the world model's state.

    Each step stores the observation keys `obs_keys` (uint8 images stay uint8, anything else is
    stored as float32), `action` (the action that led to the observation, zeros at the first
    step), `reward`, `is_first` and `is_terminal`. `flush()` writes the unfinished episodes (the
    trainer calls it when it stops or is killed), so no played step is lost.

    Args:
        directory: the folder of `.npz` episodes (created if needed).
        capacity: the most steps kept in memory.
        seq_len: length of sampled sequences.
        batch_size: sequences per batch of `dataset()`.
        min_length: shorter episodes are kept on disk but never sampled.
        seed: seed of the sampling.
        obs_keys: the observation keys to store, e.g. `("image",)` or `("vector",)`.

    Example:

    ```python
    replay = EpisodeReplay("/tmp/replay", seq_len=16, batch_size=8)
    replay.add(obs, action)      # once per environment step
    dataset = replay.dataset()   # tf.data of dicts with (8, 16, ...) tensors
    ```
    """

    def __init__(
        self,
        directory,
        capacity=2_000_000,
        seq_len=50,
        batch_size=16,
        min_length=1,
        seed=None,
        obs_keys=("image",),
    ):
        if seq_len < 1 or batch_size < 1:
            raise ValueError(
                "`seq_len` and `batch_size` must be positive. "
                f"Received: seq_len={seq_len}, batch_size={batch_size}"
            )
        self.directory = os.fspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.capacity = int(capacity)
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.min_length = min_length
        self.obs_keys = tuple(obs_keys)
        self.keys = self.obs_keys + KEYS
        self._rng = np.random.default_rng(seed)
        self._episodes = collections.OrderedDict()
        self._steps = 0
        self._current = collections.defaultdict(lambda: collections.defaultdict(list))
        for name in sorted(os.listdir(self.directory)):
            if name.endswith(".npz"):
                with np.load(os.path.join(self.directory, name)) as episode:
                    missing = [k for k in self.keys if k not in episode.files]
                    if missing:
                        raise ValueError(
                            f"The episode `{name}` in `{self.directory}` lacks the keys "
                            f"{missing}: it was written for other observation keys than "
                            f"obs_keys={self.obs_keys}. Received: keys={sorted(episode.files)}"
                        )
                    self._store(name, {k: episode[k] for k in self.keys})

    @property
    def num_steps(self):
        """Steps of the episodes held in memory."""
        return self._steps

    @property
    def num_episodes(self):
        return len(self._episodes)

    @property
    def rng_state(self):
        """The state of the sampling RNG (a JSON-serializable dict), for exact resumption."""
        return self._rng.bit_generator.state

    @rng_state.setter
    def rng_state(self, state):
        self._rng.bit_generator.state = state

    def add(self, obs, action, worker=0):
        """Appends one environment step; writes the episode when `obs["is_last"]`.

        Args:
            obs: an observation dict (the `obs_keys`, `reward`, `is_first`, `is_last`,
                `is_terminal`).
            action: the action that led to `obs` (zeros with `is_first`).
            worker: an id that keeps episodes of parallel environments apart.
        """
        episode = self._current[worker]
        if obs["is_first"] and episode:  # the last episode was cut short: keep what was played
            self._write_unfinished(episode)
        for key in self.obs_keys:
            value = np.asarray(obs[key])
            episode[key].append(value if value.dtype == np.uint8 else value.astype(np.float32))
        episode["action"].append(np.asarray(action, np.float32))
        episode["reward"].append(np.float32(obs["reward"]))
        episode["is_first"].append(bool(obs["is_first"]))
        episode["is_terminal"].append(bool(obs["is_terminal"]))
        if obs["is_last"]:
            arrays = {k: np.stack(v) for k, v in episode.items()}
            episode.clear()
            self.save_episode(arrays)

    def flush(self, min_steps=2):
        """Writes the unfinished episodes of every worker (at least `min_steps` long) as they
        are, like episodes cut by a time limit, and starts them afresh; returns the paths."""
        paths = [self._write_unfinished(e, min_steps) for e in self._current.values()]
        return [p for p in paths if p is not None]

    def _write_unfinished(self, episode, min_steps=2):
        path = None
        if len(episode["reward"]) >= min_steps:
            path = self.save_episode({k: np.stack(v) for k, v in episode.items()})
        episode.clear()
        return path

    def save_episode(self, episode):
        """Writes a finished episode (a dict of arrays over time) and keeps it in memory."""
        length = len(episode["reward"])
        stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{uuid.uuid4().hex[:8]}-{length}.npz"
        path = os.path.join(self.directory, name)
        with open(path + ".tmp", "wb") as f:
            np.savez_compressed(f, **episode)
        os.replace(path + ".tmp", path)
        self._store(name, episode)
        return path

    def _store(self, name, episode):
        length = len(episode["reward"])
        if length < self.min_length:
            return
        self._episodes[name] = episode
        self._steps += length
        while self._steps > self.capacity and len(self._episodes) > 1:
            _, oldest = self._episodes.popitem(last=False)
            self._steps -= len(oldest["reward"])

    def sample(self):
        """One sequence: a dict of arrays with `seq_len` steps."""
        if not self._episodes:
            raise ValueError(
                f"The replay in `{self.directory}` holds no finished episode to sample. "
                f"Received: num_episodes={self.num_episodes}"
            )
        episodes = list(self._episodes.values())
        lengths = np.array([len(e["reward"]) for e in episodes], np.float64)
        index = self._rng.choice(len(episodes), p=lengths / lengths.sum())
        start = int(self._rng.integers(0, lengths[index]))
        chunks, needed = [], self.seq_len
        episode = episodes[index]
        while needed > 0:
            chunk = {k: episode[k][start : start + needed] for k in self.keys}
            chunk["is_first"] = chunk["is_first"].copy()
            chunk["is_first"][0] = True
            chunks.append(chunk)
            needed -= len(chunk["reward"])
            episode = episodes[self._rng.choice(len(episodes), p=lengths / lengths.sum())]
            start = 0
        sequence = {k: np.concatenate([c[k] for c in chunks]) for k in self.keys}
        sequence["action"] = sequence["action"] * (1.0 - sequence["is_first"][:, None])
        return sequence

    def sample_batch(self):
        """A batch of `batch_size` sequences, stacked."""
        sequences = [self.sample() for _ in range(self.batch_size)]
        return {k: np.stack([s[k] for s in sequences]) for k in self.keys}

    def dataset(self):
        """An endless `tf.data.Dataset` of batches, prefetched."""
        import tensorflow as tf

        first = self.sample_batch()
        signature = {k: tf.TensorSpec(v.shape, tf.as_dtype(v.dtype)) for k, v in first.items()}

        def generate():
            yield first
            while True:
                yield self.sample_batch()

        return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)

"""Atari 2600 games with DreamerV2's preprocessing, on ale-py."""

import numpy as np
from PIL import Image


class Atari:
    """An ALE game as DreamerV2 plays it: sticky actions, action repeat, 64x64 frames.

    Each `step` repeats the action `action_repeat` times (summing rewards) and returns the
    pixel-wise maximum of the last two frames, resized to `size`. Sticky actions (the previous
    action is repeated with probability `sticky_actions` at every frame) follow Machado et al.
    (2018), which DreamerV2 uses. A reset plays a random number of no-op steps in [0, `noops`].
    Episodes end at game over or after `time_limit` agent steps (`is_last` without
    `is_terminal`). Observations are dicts: `image` (uint8, (*size, 1 or 3)), `reward`,
    `is_first`, `is_last`, `is_terminal` and `life_loss`. ale-py ships the ROMs.

    Args:
        game: the ALE ROM id, e.g. `"pong"`, `"jamesbond"`.
        action_repeat: frames per agent step.
        sticky_actions: the sticky-action probability per frame.
        size: (height, width) of the returned images.
        grayscale: grayscale (one channel) or RGB images.
        noops: the largest number of random no-op steps after a reset.
        time_limit: the episode length limit in agent steps (0 for none).
        full_action_space: all 18 actions instead of the game's minimal set.
        life_done: end the episode (`is_last`, not terminal) on a life loss.
        seed: seed of the emulator and of the no-op counts.

    Example:

    ```python
    env = Atari("pong", size=(64, 64))
    obs = env.reset()
    obs = env.step(0)
    obs["image"].shape  # (64, 64, 1)
    ```
    """

    def __init__(
        self,
        game,
        action_repeat=4,
        sticky_actions=0.25,
        size=(64, 64),
        grayscale=True,
        noops=30,
        time_limit=27000,
        full_action_space=False,
        life_done=False,
        seed=None,
    ):
        import ale_py

        if not isinstance(action_repeat, int) or action_repeat < 1:
            raise ValueError(
                "`action_repeat` must be a positive integer. "
                f"Received: action_repeat={action_repeat!r}"
            )
        if not 0.0 <= sticky_actions <= 1.0:
            raise ValueError(
                f"`sticky_actions` must be in [0, 1]. Received: sticky_actions={sticky_actions!r}"
            )
        if len(tuple(size)) != 2:
            raise ValueError(f"`size` must be (height, width). Received: size={size!r}")
        self.game = game
        self.action_repeat = action_repeat
        self.sticky_actions = sticky_actions
        self.size = tuple(size)
        self.grayscale = grayscale
        self.noops = noops
        self.time_limit = time_limit
        self.life_done = life_done
        try:
            self._env = ale_py.env.AtariEnv(
                game=game,
                obs_type="grayscale" if grayscale else "rgb",
                frameskip=1,
                repeat_action_probability=sticky_actions,
                full_action_space=full_action_space,
            )
        except Exception as error:
            raise ValueError(
                f"ale-py has no ROM named {game!r}: pass an ALE ROM id such as 'pong' or "
                f"'space_invaders'. Received: game={game!r}"
            ) from error
        self._rng = np.random.default_rng(seed)
        self._seed = seed
        self._ale = self._env.ale
        self.num_actions = int(self._env.action_space.n)
        self._steps = 0
        self._lives = 0
        self._done = True

    @property
    def ale(self):
        """The emulator's `ale_py.ALEInterface` (console RAM, lives, ...), for analysis."""
        return self._ale

    @property
    def obs_shape(self):
        """Shape of the `image` observation."""
        return self.size + (1 if self.grayscale else 3,)

    def reset(self):
        """Starts an episode; returns the first observation (`is_first` True)."""
        seed = None if self._seed is None else int(self._rng.integers(2**31))
        frame, _ = self._env.reset(seed=seed)
        for _ in range(int(self._rng.integers(0, self.noops + 1))):
            frame, _, terminated, truncated, _ = self._env.step(0)
            if terminated or truncated:
                frame, _ = self._env.reset()
        self._steps = 0
        self._lives = self._ale.lives()
        self._done = False
        return self._obs(frame, 0.0, is_first=True)

    def step(self, action):
        """Plays `action` (an index or a one-hot vector) for `action_repeat` frames."""
        if self._done:
            raise RuntimeError("The episode is over: call `reset()` before `step()`.")
        action = int(np.argmax(action)) if np.ndim(action) else int(action)
        if not 0 <= action < self.num_actions:
            raise ValueError(
                f"`action` must be in [0, {self.num_actions}). Received: action={action}"
            )
        total, frames, terminated = 0.0, [], False
        for _ in range(self.action_repeat):
            frame, reward, terminated, truncated, _ = self._env.step(action)
            total += reward
            frames.append(frame)
            if terminated or truncated:
                break
        frame = np.maximum(frames[-1], frames[-2]) if len(frames) > 1 else frames[-1]
        self._steps += 1
        lives = self._ale.lives()
        life_loss = lives < self._lives
        self._lives = lives
        over_time = bool(self.time_limit) and self._steps >= self.time_limit
        is_last = terminated or over_time or (self.life_done and life_loss)
        self._done = is_last
        return self._obs(frame, total, is_last=is_last, is_terminal=terminated, life_loss=life_loss)

    def _obs(
        self, frame, reward, is_first=False, is_last=False, is_terminal=False, life_loss=False
    ):
        image = Image.fromarray(frame).resize(self.size[::-1], Image.BILINEAR)
        image = np.asarray(image, np.uint8)
        if image.ndim == 2:
            image = image[..., None]
        return {
            "image": image,
            "reward": np.float32(reward),
            "is_first": is_first,
            "is_last": bool(is_last),
            "is_terminal": bool(is_terminal),
            "life_loss": bool(life_loss),
        }

    def close(self):
        self._env.close()

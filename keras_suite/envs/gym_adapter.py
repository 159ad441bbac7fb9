"""Any gymnasium environment as the dict-observation interface of keras-suite's agents."""

import numpy as np
from PIL import Image


class GymAdapter:
    """Wraps a gymnasium environment into the observation dicts that DreamerV2 consumes.

    `reset()` and `step(action)` return dicts with `reward`, `is_first`, `is_last`,
    `is_terminal` and the observation: an image observation (or, with `render=True`, the
    environment's RGB rendering) goes to `image`, resized to `size`; a vector observation goes to
    `vector`; a dict observation keeps its keys. Discrete action spaces take an index or a one-hot
    vector; continuous ones a vector in [-1, 1], rescaled to the space's bounds.

    Args:
        env: a gymnasium id (made with `render_mode="rgb_array"` when `render`) or an
            environment.
        size: (height, width) of `image`; `None` keeps the native size.
        grayscale: converts `image` to one channel.
        render: uses `env.render()` as the `image` observation (for vector-state environments
            such as CartPole).
        action_repeat: steps of the wrapped environment per `step`, rewards summed.
        seed: seed of the first reset.

    Example:

    ```python
    env = GymAdapter("CartPole-v1")
    obs = env.reset()
    obs = env.step(1)
    obs["vector"].shape  # (4,)
    ```
    """

    def __init__(
        self, env, size=(64, 64), grayscale=False, render=False, action_repeat=1, seed=None
    ):
        import gymnasium as gym

        if isinstance(env, str):
            env = gym.make(env, render_mode="rgb_array") if render else gym.make(env)
        self.env = env
        self.size = None if size is None else tuple(size)
        self.grayscale = grayscale
        self.render = render
        self.action_repeat = action_repeat
        self._seed = seed
        space = env.action_space
        if isinstance(space, gym.spaces.Discrete):
            self.continuous, self.num_actions = False, int(space.n)
        elif isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
            self.continuous, self.num_actions = True, int(space.shape[0])
        else:
            raise ValueError(
                "`env` must have a Discrete or a 1-D Box action space. "
                f"Received: action_space={space}"
            )

    def reset(self):
        obs, _ = self.env.reset(seed=self._seed)
        self._seed = None
        return self._obs(obs, 0.0, is_first=True)

    def step(self, action):
        if self.continuous:
            low, high = self.env.action_space.low, self.env.action_space.high
            action = low + (np.clip(np.asarray(action, np.float32), -1, 1) + 1) / 2 * (high - low)
        else:
            action = int(np.argmax(action)) if np.ndim(action) else int(action)
        total, terminated, truncated = 0.0, False, False
        for _ in range(self.action_repeat):
            obs, reward, terminated, truncated, _ = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
        return self._obs(obs, total, is_last=terminated or truncated, is_terminal=terminated)

    def _image(self, image):
        image = np.asarray(image, np.uint8)
        pil = Image.fromarray(
            image.squeeze(-1) if image.ndim == 3 and image.shape[-1] == 1 else image
        )
        if self.grayscale:
            pil = pil.convert("L")
        if self.size is not None:
            pil = pil.resize(self.size[::-1], Image.BILINEAR)
        image = np.asarray(pil, np.uint8)
        return image[..., None] if image.ndim == 2 else image

    def _obs(self, obs, reward, is_first=False, is_last=False, is_terminal=False):
        out = {}
        if isinstance(obs, dict):
            for key, value in obs.items():
                value = np.asarray(value)
                out[key] = self._image(value) if value.ndim == 3 else value
        else:
            obs = np.asarray(obs)
            if obs.ndim == 3:
                out["image"] = self._image(obs)
            else:
                out["vector"] = obs.astype(np.float32)
        if self.render:
            out["image"] = self._image(self.env.render())
        out.update(
            reward=np.float32(reward),
            is_first=is_first,
            is_last=bool(is_last),
            is_terminal=bool(is_terminal),
        )
        return out

    def close(self):
        self.env.close()

"""Any gymnasium environment as the observation dicts that keras-suite's DreamerV2 consumes."""

import numpy as np
from PIL import Image


class GymAdapter:
    """Wraps a gymnasium environment into the observation dicts that DreamerV2 consumes.

    The one bridge between gymnasium environments (Atari from `keras_suite.envs.atari`,
    `PixelCartPole`, any registered id) and `keras_suite.zoo.dreamer`: `reset()` and
    `step(action)` return dicts with `reward`, `is_first`, `is_last` (terminated or truncated),
    `is_terminal` (terminated only) and the observation: an image observation (or, with
    `render=True`, the environment's RGB rendering) goes to `image`, resized to `size`; a
    vector observation goes to `vector`; a dict observation keeps its keys. A `life_loss` entry
    of the step's `info` (as Atari reports) is passed on. Discrete action spaces take an index
    or a one-hot vector; continuous ones a vector in [-1, 1], rescaled to the space's bounds.

    Args:
        env: a gymnasium id (made with `render_mode="rgb_array"` when `render`) or an
            environment.
        size: (height, width) of `image`; `None` keeps the native size.
        grayscale: converts `image` to one channel.
        render: uses `env.render()` as the `image` observation (for vector-state environments
            such as CartPole).
        action_repeat: steps of the wrapped environment per `step`, rewards summed.
        seed: seed of the first reset (later resets continue its random stream).

    Example:

    ```python
    env = GymAdapter("CartPole-v1", seed=0)
    obs = env.reset()
    obs = env.step(1)
    obs["vector"].shape, env.obs_shape  # ((4,), {"vector": (4,)})
    ```
    """

    def __init__(
        self, env, size=(64, 64), grayscale=False, render=False, action_repeat=1, seed=None
    ):
        import gymnasium as gym

        if isinstance(env, str):
            try:
                env = gym.make(env, render_mode="rgb_array") if render else gym.make(env)
            except gym.error.Error as error:
                raise ValueError(
                    f"`env` must be a registered gymnasium id ({error}). Received: env={env!r}"
                ) from None
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
        self.obs_shape = self._obs_shape(env.observation_space)

    def _image_shape(self, shape):
        channels = 1 if self.grayscale else (shape[-1] if len(shape) == 3 else 1)
        return (self.size or tuple(shape[:2])) + (channels,)

    def _obs_shape(self, space):
        """The agent's `obs_shape`: the image shape when there is an image, else a dict of the
        vector keys' shapes (e.g. `{"vector": (4,)}`)."""
        if self.render:
            if self.size is None:
                raise ValueError(
                    "`size` must be (height, width) when `render=True`: the rendering's size is "
                    f"unknown before a reset. Received: size={self.size}"
                )
            return self._image_shape(self.size + (3,))
        spaces = getattr(space, "spaces", None)
        if isinstance(spaces, dict):
            shapes = {}
            for key, sub in spaces.items():
                if len(sub.shape) == 3:
                    shapes[key] = self._image_shape(sub.shape)
                elif len(sub.shape) == 1:
                    shapes[key] = tuple(sub.shape)
            return shapes
        if len(space.shape) == 3:
            return self._image_shape(space.shape)
        if len(space.shape) == 1:
            return {"vector": tuple(space.shape)}
        raise ValueError(
            "The environment's observations must be images (H, W, C), vectors or a dict of them; "
            "pass `render=True` for environments that can render frames. "
            f"Received: observation_space={space}"
        )

    def reset(self):
        obs, info = self.env.reset(seed=self._seed)
        self._seed = None
        return self._obs(obs, 0.0, info, is_first=True)

    def step(self, action):
        if self.continuous:
            low, high = self.env.action_space.low, self.env.action_space.high
            action = low + (np.clip(np.asarray(action, np.float32), -1, 1) + 1) / 2 * (high - low)
        else:
            action = int(np.argmax(action)) if np.ndim(action) else int(action)
        total, terminated, truncated, life_loss = 0.0, False, False, False
        for _ in range(self.action_repeat):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            life_loss = life_loss or bool(info.get("life_loss", False))
            if terminated or truncated:
                break
        info = dict(info, life_loss=life_loss) if "life_loss" in info else info
        return self._obs(obs, total, info, is_last=terminated or truncated, is_terminal=terminated)

    def _image(self, image):
        image = np.asarray(image, np.uint8)
        if self.size is None and not self.grayscale:
            return image  # as it is, with any number of channels (Pillow holds at most four)
        pil = Image.fromarray(
            image.squeeze(-1) if image.ndim == 3 and image.shape[-1] == 1 else image
        )
        if self.grayscale:
            pil = pil.convert("L")
        if self.size is not None:
            pil = pil.resize(self.size[::-1], Image.BILINEAR)
        image = np.asarray(pil, np.uint8)
        return image[..., None] if image.ndim == 2 else image

    def _obs(self, obs, reward, info, is_first=False, is_last=False, is_terminal=False):
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
        if "life_loss" in info:
            out["life_loss"] = bool(info["life_loss"])
        out.update(
            reward=np.float32(reward),
            is_first=is_first,
            is_last=bool(is_last),
            is_terminal=bool(is_terminal),
        )
        return out

    def close(self):
        self.env.close()

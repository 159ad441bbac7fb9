"""DreamerV2's last step on Atari frames: Pillow's bilinear resize, and life losses in `info`."""

import gymnasium as gym
import numpy as np
from PIL import Image


class AtariFrames(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Resizes an ALE environment's frames with Pillow's bilinear filter; reports life losses.

    The frames (uint8, `(H, W, C)`, typically the max-pooled output of gymnasium's
    `AtariPreprocessing` at the native 210x160) are resized to `size` with Pillow's bilinear
    filter, the resize the shipped `pong_world_model` preset learned from (OpenCV's area
    interpolation, `AtariPreprocessing`'s own, gives frames it predicts less well). Each `info`
    gains `life_loss`: whether the step lost a life (`ale.lives()` fell).

    Args:
        env: a gymnasium environment on ale-py with image observations.
        size: (height, width) of the observations.

    Example:

    ```python
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    env = AtariFrames(gym.make("ALE/Pong-v5", obs_type="grayscale"), size=(64, 64))
    obs, info = env.reset(seed=0)
    obs.shape, info["life_loss"]  # ((64, 64, 1), False)
    ```
    """

    def __init__(self, env, size=(64, 64)):
        if len(tuple(size)) != 2:
            raise ValueError(f"`size` must be (height, width). Received: size={size!r}")
        gym.utils.RecordConstructorArgs.__init__(self, size=tuple(size))
        gym.Wrapper.__init__(self, env)
        self.size = tuple(size)
        shape = env.observation_space.shape
        channels = shape[-1] if len(shape) == 3 else 1
        self.observation_space = gym.spaces.Box(0, 255, self.size + (channels,), np.uint8)
        self._lives = 0

    @property
    def ale(self):
        """The emulator's `ale_py.ALEInterface` (console RAM, lives, ...), for analysis."""
        return self.env.unwrapped.ale

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._lives = self.ale.lives()
        return self._resize(obs), dict(info, life_loss=False)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = self.ale.lives()
        life_loss = lives < self._lives
        self._lives = lives
        return self._resize(obs), reward, terminated, truncated, dict(info, life_loss=life_loss)

    def _resize(self, frame):
        frame = np.asarray(frame, np.uint8)
        image = Image.fromarray(
            frame[..., 0] if frame.ndim == 3 and frame.shape[-1] == 1 else frame
        )
        image = np.asarray(image.resize(self.size[::-1], Image.BILINEAR), np.uint8)
        return image[..., None] if image.ndim == 2 else image

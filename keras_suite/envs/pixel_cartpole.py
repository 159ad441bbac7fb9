"""CartPole seen through 64x64 images: a fast pixel environment for small DreamerV2 runs."""

import numpy as np
from PIL import Image, ImageDraw


class PixelCartPole:
    """gymnasium's CartPole-v1 with 64x64 grayscale image observations drawn from its state.

    The cart is a white 12x6 box on row 44-50 whose center moves 28 pixels per 2.4 units of
    cart position; the pole is a 28-pixel gray line from the cart's top at the pole's angle.
    Drawn with Pillow (no pygame). Observations follow `keras_suite.envs`' dict interface
    (`image`, `reward`, `is_first`, `is_last`, `is_terminal`); actions are an index or a one-hot
    vector. A uniformly random policy scores about 20 per episode, the maximum is 500.

    Args:
        seed: seed of the first reset; each reset increments it.

    Example:

    ```python
    env = PixelCartPole(seed=0)
    obs = env.reset()
    obs = env.step(1)
    obs["image"].shape  # (64, 64, 1)
    ```
    """

    num_actions = 2
    obs_shape = (64, 64, 1)

    def __init__(self, seed=0):
        import gymnasium as gym

        self.env = gym.make("CartPole-v1")
        self.seed = seed

    @staticmethod
    def render_state(state):
        """The 64x64x1 uint8 image of a CartPole state (x, x_dot, theta, theta_dot)."""
        image = Image.new("L", (64, 64), 0)
        draw = ImageDraw.Draw(image)
        x = 32 + state[0] / 2.4 * 28
        draw.rectangle([x - 6, 44, x + 6, 50], fill=255)
        angle = state[2]
        draw.line([x, 44, x + 28 * np.sin(angle), 44 - 28 * np.cos(angle)], fill=160, width=3)
        return np.asarray(image, np.uint8)[..., None]

    def reset(self):
        state, _ = self.env.reset(seed=self.seed)
        self.seed += 1
        return dict(
            image=self.render_state(state),
            reward=np.float32(0),
            is_first=True,
            is_last=False,
            is_terminal=False,
        )

    def step(self, action):
        action = int(np.argmax(action)) if np.ndim(action) else int(action)
        state, reward, terminated, truncated, _ = self.env.step(action)
        return dict(
            image=self.render_state(state),
            reward=np.float32(reward),
            is_first=False,
            is_last=terminated or truncated,
            is_terminal=terminated,
        )

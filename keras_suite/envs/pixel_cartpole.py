"""CartPole seen through 64x64 images: a fast pixel environment for small DreamerV2 runs."""

import gymnasium as gym
import numpy as np
from PIL import Image, ImageDraw


class PixelCartPole(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """gymnasium's CartPole-v1 with 64x64 grayscale image observations drawn from its state.

    The cart is a white 12x6 box on row 44-50 whose center moves 28 pixels per 2.4 units of
    cart position; the pole is a 28-pixel gray line from the cart's top at the pole's angle.
    Drawn with Pillow (no pygame). A gymnasium environment: observations are uint8 arrays of
    shape (64, 64, 1), actions 0 (push left) and 1 (push right), episodes truncated at 500
    steps. A uniformly random policy scores about 20 per episode, the maximum is 500.

    Args:
        env: the CartPole environment to draw (default: `gymnasium.make("CartPole-v1")`).

    Example:

    ```python
    env = PixelCartPole()
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(1)
    obs.shape  # (64, 64, 1)
    ```
    """

    def __init__(self, env=None):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env or gym.make("CartPole-v1"))
        self.observation_space = gym.spaces.Box(0, 255, (64, 64, 1), np.uint8)

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

    def observation(self, observation):
        return self.render_state(observation)

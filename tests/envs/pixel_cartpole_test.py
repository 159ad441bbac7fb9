import gymnasium as gym
import numpy as np

from keras_suite.envs import PixelCartPole


def test_images_follow_the_wrapped_state():
    env = PixelCartPole(seed=4)
    reference = gym.make("CartPole-v1")
    obs = env.reset()
    state, _ = reference.reset(seed=4)
    assert obs["image"].shape == (64, 64, 1) and obs["is_first"]
    for _ in range(12):
        obs = env.step(np.eye(2)[0])  # push left: the cart drifts left, the pole tips right
        state, *_ = reference.step(0)
    np.testing.assert_array_equal(obs["image"], PixelCartPole.render_state(state))
    cart_columns = np.nonzero(obs["image"][47, :, 0] == 255)[0]
    # The cart's box spans 12 pixels centred on 32 + x / 2.4 * 28.
    assert abs(cart_columns.mean() - (32 + state[0] / 2.4 * 28)) <= 1.0
    assert len(cart_columns) in (12, 13)


def test_episode_ends_when_the_pole_falls():
    env = PixelCartPole(seed=0)
    env.reset()
    steps, obs = 0, {"is_last": False}
    while not obs["is_last"]:
        obs = env.step(1)
        steps += 1
    assert obs["is_terminal"] and steps < 100

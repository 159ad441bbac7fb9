"""DreamerV2's environments by name: Atari games, MinAtar, pixel CartPole, any gymnasium id."""

from keras_suite.envs import GymAdapter

# Emulator frames per agent step: `keras_suite.envs.atari.make_atari`'s action repeat.
ATARI_FRAMES_PER_STEP = 4


def frames_per_step(name):
    """Environment frames per agent step of the environment `name` (see `make_env`): 4 for
    `"atari:<rom>"`, 1 for the others (MinAtar plays one frame per step)."""
    return ATARI_FRAMES_PER_STEP if str(name).startswith("atari:") else 1


def make_env(name, time_limit=27000, render=False, seed=0):
    """The environment `name` as the observation dicts that DreamerV2 consumes.

    Every environment is a gymnasium environment behind `keras_suite.envs.GymAdapter`, with
    64x64 grayscale images where it has images:

    - `"atari:<rom>"` (e.g. `"atari:pong"`): the ALE game with DreamerV2's settings
      (`keras_suite.envs.atari.make_atari`: sticky actions 0.25, action repeat 4, up to 30
      no-ops, max-pooled frames), episodes truncated at `time_limit` agent steps;
    - `"minatar:<game>"` (e.g. `"minatar:breakout"`): the MinAtar game with the MinAtar paper's
      settings (`keras_suite.envs.minatar.make_minatar`: sticky actions 0.1, difficulty
      ramping, one frame per step), its 10x10 binary grid as the `image` (uint8 0 or 1),
      episodes truncated at `time_limit` frames;
    - `"cartpole_pixels"`: `keras_suite.envs.PixelCartPole`, CartPole-v1 drawn as 64x64 images;
    - any other registered gymnasium id: image observations as images, vector ones as
      `vector`; `render=True` uses the environment's `rgb_array` rendering as the image.

    Args:
        name: the environment's name, as above.
        time_limit: the episode limit in agent steps for Atari and MinAtar games (`None` for
            none).
        render: use `env.render()` as the image (gymnasium ids only).
        seed: seed of the first reset.

    Returns:
        A `keras_suite.envs.GymAdapter`, with `num_actions`, `continuous` and `obs_shape`.

    Example:

    ```python
    env = make_env("cartpole_pixels", seed=0)
    obs = env.reset()
    obs["image"].shape, env.obs_shape  # ((64, 64, 1), (64, 64, 1))
    ```
    """
    from keras_suite.envs import PixelCartPole

    if not isinstance(name, str) or not name:
        raise ValueError(
            "`env` must be 'atari:<ALE ROM id>', 'minatar:<game>', 'cartpole_pixels' or a "
            f"gymnasium id. Received: env={name!r}"
        )
    if name.startswith("minatar:"):
        from keras_suite.envs.minatar import make_minatar

        env = make_minatar(name.split(":", 1)[1], time_limit=time_limit)
        return GymAdapter(env, size=None, seed=seed)
    if name.startswith("atari:"):
        from keras_suite.envs.atari import make_atari

        env = make_atari(name.split(":", 1)[1], time_limit=time_limit)
    elif name == "cartpole_pixels":
        env = PixelCartPole()
    else:
        env = name
    return GymAdapter(env, size=(64, 64), grayscale=True, render=render, seed=seed)

"""Atari 2600 games as gymnasium environments with DreamerV2's settings, on ale-py."""

import gymnasium as gym

from keras_suite.envs.atari.atari_frames import AtariFrames

# The ALE screen, (height, width).
SCREEN_SHAPE = (210, 160)


def _ale_id(game):
    """The gymnasium id of ale-py's v5 environment for an ALE ROM id (`"pong"`)."""
    import ale_py

    gym.register_envs(ale_py)
    for env_id, spec in gym.registry.items():
        if env_id.startswith("ALE/") and env_id.endswith("-v5") and spec.kwargs.get("game") == game:
            return env_id
    raise ValueError(
        f"`game` must be an ALE ROM id that ale-py ships, such as 'pong' or 'space_invaders'. "
        f"Received: game={game!r}"
    )


def make_atari(
    game,
    action_repeat=4,
    sticky_actions=0.25,
    size=(64, 64),
    grayscale=True,
    noops=30,
    time_limit=27000,
    full_action_space=False,
    terminal_on_life_loss=False,
):
    """An ALE game as DreamerV2 plays it: a gymnasium environment of 64x64 frames.

    Built from ale-py's registered `ALE/<Game>-v5` environment (one emulator frame per step,
    sticky actions: the previous action repeats with probability `sticky_actions` at every
    frame, Machado et al., 2018) and gymnasium's wrappers: `AtariPreprocessing` plays 1 to
    `noops` no-ops on reset and repeats each action `action_repeat` times, summing the rewards
    and max-pooling the last two frames; `AtariFrames` resizes the frame to `size` (Pillow's
    bilinear filter) and reports life losses in `info["life_loss"]`; `TimeLimit` truncates
    episodes after `time_limit` agent steps (27,000 steps = 108,000 frames). These are
    DreamerV2's Atari settings (Hafner et al., 2021; `common/envs.py` of danijar/dreamerv2).
    `reset(seed=...)` fixes the emulator, the no-op counts and the sticky actions.

    Args:
        game: the ALE ROM id, e.g. `"pong"`, `"space_invaders"`.
        action_repeat: emulator frames per agent step.
        sticky_actions: the sticky-action probability per frame.
        size: (height, width) of the observations.
        grayscale: grayscale (one channel) or RGB observations.
        noops: the largest number of no-op frames after a reset (0 for none).
        time_limit: the episode length limit in agent steps (`None` for none).
        full_action_space: all 18 actions instead of the game's minimal set.
        terminal_on_life_loss: end the episode (terminated) when a life is lost.

    Returns:
        A `gymnasium.Env` with uint8 observations of shape `(*size, 1 or 3)` and a `Discrete`
        action space.

    Example:

    ```python
    env = make_atari("pong")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    obs.shape  # (64, 64, 1)
    ```
    """
    if not isinstance(action_repeat, int) or action_repeat < 1:
        raise ValueError(
            f"`action_repeat` must be a positive integer. Received: action_repeat={action_repeat!r}"
        )
    if not 0.0 <= sticky_actions <= 1.0:
        raise ValueError(
            f"`sticky_actions` must be in [0, 1]. Received: sticky_actions={sticky_actions!r}"
        )
    if time_limit is not None and (not isinstance(time_limit, int) or time_limit < 1):
        raise ValueError(
            "`time_limit` must be a positive number of agent steps or None. "
            f"Received: time_limit={time_limit!r}"
        )
    env = gym.make(
        _ale_id(game),
        obs_type="grayscale" if grayscale else "rgb",
        frameskip=1,
        repeat_action_probability=sticky_actions,
        full_action_space=full_action_space,
        max_num_frames_per_episode=None,
    )
    # At the native screen size OpenCV leaves the frame as it is; `AtariFrames` resizes it.
    env = gym.wrappers.AtariPreprocessing(
        env,
        noop_max=noops,
        frame_skip=action_repeat,
        screen_size=SCREEN_SHAPE[::-1],
        terminal_on_life_loss=terminal_on_life_loss,
        grayscale_obs=grayscale,
        grayscale_newaxis=True,
    )
    env = AtariFrames(env, size=size)
    if time_limit is not None:
        env = gym.wrappers.TimeLimit(env, max_episode_steps=time_limit)
    return env

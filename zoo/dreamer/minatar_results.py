"""DreamerV2 on MinAtar beside the MinAtar paper's baselines: the table, a random policy, curves."""

import os

import numpy as np

from keras_suite.envs.minatar import GAMES, make_minatar
from keras_suite.zoo.dreamer.evaluate import EVAL_SEED

#: Returns at 5 million frames of the MinAtar paper's baselines (Young & Tian, 2019, "MinAtar:
#: An Atari-Inspired Testbed for Thorough and Reproducible Reinforcement Learning Experiments",
#: learning curves with sticky actions and difficulty ramping), read from the curves.
MINATAR_BASELINES = {
    "DQN": {
        "asterix": 17.0,
        "breakout": 10.0,
        "freeway": 50.0,
        "seaquest": 20.0,
        "space_invaders": 43.0,
    },
    "AC(lambda)": {
        "asterix": 19.0,
        "breakout": 17.5,
        "freeway": 47.5,
        "seaquest": 16.0,
        "space_invaders": 185.0,
    },
}
#: Frames of the baselines' scores above.
BASELINE_FRAMES = 5_000_000


def random_returns(game, episodes=30, seed=EVAL_SEED):
    """Returns of a uniformly random policy on the MinAtar game `game`: episode i is seeded
    with `seed + i` as `keras_suite.zoo.dreamer.evaluate` seeds them, and the actions come from
    `numpy.random.default_rng(seed)`. Returns a list of floats."""
    rng, returns = np.random.default_rng(seed), []
    for episode in range(episodes):
        env = make_minatar(game, time_limit=27000)
        env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
            total, done = total + reward, terminated or truncated
        returns.append(total)
    return returns


def preset_name(game):
    """The name of the built-in DreamerV2 preset trained on the MinAtar game `game`."""
    return f"minatar_{game}"


def minatar_rows(metadata_by_game, random_episodes=30):
    """One table row per MinAtar game from presets' metadata (`{game: metadata}`; games
    without a preset or an evaluation get empty cells): the evaluated return, its episodes and
    policy, the training frames, updates and hours, the mean return of `random_episodes`
    episodes of a random policy (`random_returns`; `None` when 0), both baselines, and whether
    the agent reached DQN's 5M-frame score within 1M frames."""
    rows = []
    for game in GAMES:
        metadata = metadata_by_game.get(game) or {}
        evaluation = metadata.get("evaluation")
        row = {
            "game": game,
            "random": float(np.mean(random_returns(game, random_episodes)))
            if random_episodes
            else None,
            "dqn": MINATAR_BASELINES["DQN"][game],
            "ac_lambda": MINATAR_BASELINES["AC(lambda)"][game],
        }
        if evaluation:
            row.update(
                mean_return=evaluation["mean_return"],
                std_return=evaluation["std_return"],
                episodes=evaluation["episodes"],
                policy=evaluation["policy"],
                frames=metadata.get("frames"),
                updates=metadata.get("updates"),
                train_hours=metadata.get("train_hours"),
            )
            row["beats_dqn_in_1m"] = bool(
                row["frames"] is not None
                and row["frames"] <= 1_000_000
                and row["mean_return"] >= row["dqn"]
            )
        rows.append(row)
    return rows


def minatar_table(metadata_by_game=None, random_episodes=30):
    """The MinAtar results as a Markdown table (see `minatar_rows`).

    Args:
        metadata_by_game: `{game: preset metadata}`; by default, the built-in `minatar_<game>`
            presets that exist.
        random_episodes: episodes of the random policy per game (0: no random column values).
    """
    if metadata_by_game is None:
        from keras_suite.zoo.dreamer.dreamer_v2 import DreamerV2

        metadata_by_game = {
            game: DreamerV2.preset_metadata(preset_name(game))
            for game in GAMES
            if preset_name(game) in DreamerV2.presets
        }
    lines = [
        "| Game | DreamerV2 return | Episodes (policy) | Frames | Updates | Hours | Random | "
        f"DQN at {BASELINE_FRAMES // 10**6}M | AC(λ) at {BASELINE_FRAMES // 10**6}M | "
        "DQN's score within 1M frames |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in minatar_rows(metadata_by_game, random_episodes):
        if "mean_return" in row:
            cells = [
                f"{row['mean_return']:.1f} ± {row['std_return']:.1f}",
                f"{row['episodes']} ({row['policy']})",
                _count(row["frames"]),
                _count(row["updates"]),
                "" if row["train_hours"] is None else f"{row['train_hours']:.1f}",
            ]
        else:
            cells = [""] * 5
        cells.append("" if row["random"] is None else f"{row['random']:.1f}")
        cells += [f"{row['dqn']:g}", f"{row['ac_lambda']:g}"]
        cells.append({True: "yes", False: "no", None: ""}[row.get("beats_dqn_in_1m")])
        lines.append(f"| {row['game']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_minatar_curves(runs_folder, png_path=None, window=100):
    """Draws the learning curves of the MinAtar runs in `runs_folder` (one logdir per game,
    named after it: `runs_folder/breakout/metrics.jsonl`, ...) beside a random policy's return
    (`random_returns`) and DQN's at 5M frames (AC(lambda)'s 185 on Space Invaders would
    flatten every other line; the table holds it); returns the PNG's path.

    Args:
        runs_folder: the folder of the per-game logdirs; games without one are left out.
        png_path: where to write the figure (default: `runs_folder/learning_curves.png`).
        window: training episodes in each running mean.

    Example:

    ```python
    plot_minatar_curves("runs/minatar")  # runs/minatar/{breakout,asterix,...}/metrics.jsonl
    ```
    """
    from keras_suite.zoo.dreamer.learning_curve import plot_learning_curves

    paths = {game: os.path.join(runs_folder, game, "metrics.jsonl") for game in GAMES}
    paths = {game: path for game, path in paths.items() if os.path.isfile(path)}
    if not paths:
        raise ValueError(
            "`runs_folder` must hold a logdir per MinAtar game (<game>/metrics.jsonl, games: "
            f"{', '.join(GAMES)}). Received: runs_folder={runs_folder!r}"
        )
    millions = BASELINE_FRAMES // 10**6
    references = {
        game: {
            "random": float(np.mean(random_returns(game))),
            f"DQN at {millions}M": MINATAR_BASELINES["DQN"][game],
        }
        for game in paths
    }
    png_path = png_path or os.path.join(runs_folder, "learning_curves.png")
    return plot_learning_curves(paths, png_path, references=references, window=window)


def _count(value):
    return "" if value is None else f"{value:,}"

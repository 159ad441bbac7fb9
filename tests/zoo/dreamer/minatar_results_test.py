import json
import os

import numpy as np
import pytest

from keras_suite.zoo.dreamer.minatar_results import (
    MINATAR_BASELINES,
    minatar_rows,
    minatar_table,
    plot_minatar_curves,
    random_returns,
)

pytestmark = pytest.mark.backend_independent


def _metadata(frames, mean_return):
    return {
        "frames": frames,
        "updates": frames // 4,
        "train_hours": 2.5,
        "evaluation": {
            "mean_return": mean_return,
            "std_return": 1.5,
            "episodes": 30,
            "policy": "greedy",
        },
    }


def test_rows_compare_with_dqn_within_one_million_frames():
    rows = minatar_rows(
        {
            "breakout": _metadata(1_000_000, 10.0),
            "asterix": _metadata(1_000_004, 40.0),
            "freeway": _metadata(500_000, 49.9),
        },
        random_episodes=0,
    )
    by_game = {row["game"]: row for row in rows}
    assert [row["game"] for row in rows] == [
        "asterix",
        "breakout",
        "freeway",
        "seaquest",
        "space_invaders",
    ]
    assert by_game["breakout"]["beats_dqn_in_1m"]  # 10 >= DQN's 10, at exactly 1M frames
    assert not by_game["asterix"]["beats_dqn_in_1m"]  # past 1M frames
    assert not by_game["freeway"]["beats_dqn_in_1m"]  # below DQN's 50
    assert "mean_return" not in by_game["seaquest"]  # no preset: an empty row
    for row in rows:
        assert row["dqn"] == MINATAR_BASELINES["DQN"][row["game"]]
        assert row["ac_lambda"] == MINATAR_BASELINES["AC(lambda)"][row["game"]]


def test_table_shows_measured_cells_only():
    metadata = {"breakout": _metadata(800_000, 12.25)}
    lines = minatar_table(metadata, random_episodes=2).splitlines()
    assert len(lines) == 7
    breakout = lines[3].split(" | ")
    assert breakout[1:6] == ["12.2 ± 1.5", "30 (greedy)", "800,000", "200,000", "2.5"]
    random = np.mean(random_returns("breakout", 2))
    assert breakout[6:] == [f"{random:.1f}", "10", "17.5", "yes |"]
    asterix = lines[2].split(" | ")
    assert asterix[1:6] == [""] * 5 and asterix[7:] == ["17", "19", " |"]
    assert minatar_table(metadata, random_episodes=0).splitlines()[3].split(" | ")[6] == ""


def test_random_returns_match_a_minatar_environment_played_by_hand():
    from minatar import Environment

    rng, expected = np.random.default_rng(7), []
    for episode in range(3):
        env = Environment("breakout", sticky_action_prob=0.1)
        env.seed(7 + episode)
        env.reset()
        actions, total, done = env.minimal_action_set(), 0.0, False
        while not done:
            reward, done = env.act(actions[int(rng.integers(len(actions)))])
            total += reward
        expected.append(total)
    assert random_returns("breakout", episodes=3, seed=7) == expected


def test_curves_draw_the_games_that_have_a_run(tmp_path):
    os.makedirs(tmp_path / "freeway")
    with open(tmp_path / "freeway" / "metrics.jsonl", "w") as f:
        for step, value in ((10, 0.0), (25, 1.0), (40, 2.0)):
            f.write(json.dumps({"episode/return": value, "step": step}) + "\n")
        f.write(json.dumps({"eval/return": 1.5, "step": 40}) + "\n")
    path = plot_minatar_curves(str(tmp_path), window=2)
    assert path == str(tmp_path / "learning_curves.png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="runs_folder"):
        plot_minatar_curves(str(tmp_path / "freeway"))

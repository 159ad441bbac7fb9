import json

import numpy as np
from PIL import Image

from keras_suite.zoo.transporter import results_table


def test_table_has_the_paper_layout_with_our_numbers(tmp_path):
    results = {
        "block-insertion": {"10": {"score": 90.0, "success_rate": 90.0, "episodes": 10}},
        "towers-of-hanoi": {"1": {"score": 71.43, "success_rate": 0.0, "episodes": 2}},
    }
    path = tmp_path / "results.md"
    results_table.write_results_table(results, str(path))
    lines = path.read_text().splitlines()
    assert lines[0] == "| task | 1 demo | 10 demos | 100 demos |"
    row = next(line for line in lines if line.startswith("| block-insertion"))
    assert row == (
        "| block-insertion | - / paper 100.0 | 90.0 (90% solved, 10 ep.) / paper 100.0 "
        "| - / paper 100.0 |"
    )
    assert any(
        line.startswith("| towers-of-hanoi | 71.4 (0% solved, 2 ep.) / paper 73.1 ")
        for line in lines
    )


def test_a_goal_conditioned_result_gets_its_own_row(tmp_path):
    results = {}
    for goal, score in ((False, 90.0), (True, 80.0)):
        result = {"task": "block-insertion", "n_demos": 10, "goal_conditioned": goal}
        result.update(score=score, success_rate=score, episodes=4)
        results_table.add_result(results, result)
    path = tmp_path / "results.md"
    results_table.write_results_table(results, str(path))
    lines = path.read_text().splitlines()
    assert "| block-insertion | - / paper 100.0 | 90.0 (90% solved, 4 ep.) / paper 100.0 |" in (
        "\n".join(lines)
    )
    assert "| block-insertion, goal-conditioned | - | 80.0 (80% solved, 4 ep.) | - |" in lines


def test_results_round_trip_and_earlier_cells_get_a_score(tmp_path):
    path = tmp_path / "results.json"
    assert results_table.read_results(str(path)) == {}
    earlier = {"success_rate": 0.0, "mean_reward": 0.5, "episodes": 2}  # no `score` yet
    path.write_text(json.dumps({"towers-of-hanoi": {"10": earlier}}))
    results = results_table.read_results(str(path))
    assert results["towers-of-hanoi"]["10"]["score"] == 50.0
    results_table.write_results(results, str(path))
    assert results_table.read_results(str(path)) == results


def test_plot_is_a_png(tmp_path):
    path = tmp_path / "results.png"
    results = {"block-insertion": {"10": {"score": 90.0, "success_rate": 90.0, "episodes": 10}}}
    results_table.write_results_plot(results, str(path))
    image = np.asarray(Image.open(path))
    assert image.ndim == 3 and image.shape[0] > 100

import json

import numpy as np
from PIL import Image

from keras_suite.zoo.transporter import results_table


def test_table_puts_our_cells_beside_both_anchors(tmp_path):
    results = {
        "block-insertion": {"10": {"score": 90.0, "success_rate": 90.0, "episodes": 10}},
        "towers-of-hanoi": {"1": {"score": 71.43, "success_rate": 0.0, "episodes": 2}},
    }
    path = tmp_path / "results.md"
    results_table.write_results_table(results, str(path))
    lines = path.read_text().splitlines()
    assert lines[0].startswith("| task | 1 demo | 10 demos | 100 demos | Transporter")
    row = "| block-insertion |  | 90.0 (90% solved, 10 ep.) |  | 100.0 / 100.0 / 100.0 |  |"
    assert row in lines
    assert "| towers-of-hanoi | 71.4 (0% solved, 2 ep.) |  |  | 73.1 / 83.9 / 97.3 |  |" in lines
    assert "| packing-boxes |  |  |  | 56.8 / 58.3 / 72.1 | 96.1 / 99.9 / 99.9 |" in lines
    task_rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(task_rows) == 10


def test_a_goal_conditioned_result_gets_its_own_row(tmp_path):
    results = {}
    for goal, score in ((False, 90.0), (True, 80.0)):
        result = {"task": "block-insertion", "n_demos": 10, "goal_conditioned": goal}
        result.update(score=score, success_rate=score, episodes=4)
        results_table.add_result(results, result)
    path = tmp_path / "results.md"
    results_table.write_results_table(results, str(path))
    lines = path.read_text().splitlines()
    row = "| block-insertion |  | 90.0 (90% solved, 4 ep.) |  | 100.0 / 100.0 / 100.0 |  |"
    assert row in lines
    assert "| block-insertion, goal-conditioned |  | 80.0 (80% solved, 4 ep.) |  |  |  |" in lines


def test_recorded_results_read_the_presets_metadata(tmp_path):
    import json

    folder = tmp_path / "preset"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    evaluation = {"mean_reward": 0.75, "success_rate": 50.0, "episodes": 4, "seeds": [1, 3, 5, 7]}
    metadata = {"task": "packing-boxes", "n_demos": 1, "evaluation": evaluation}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    results = results_table.recorded_results([str(folder)])
    cell = results["packing-boxes"]["1"]
    assert cell["score"] == 75.0 and cell["episodes"] == 4 and cell["model"] == str(folder)


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

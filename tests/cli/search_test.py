import os
import subprocess
import sys

import pytest

from keras_suite.cli import main as cli
from keras_suite.cli import search

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_search_sub_command_parses_its_options():
    args = cli.build_parser().parse_args(
        ["search", "--dataset", "mnist1d", "--max-trials", "4", "--epochs", "2", "--out", "o"]
    )
    assert (args.dataset, args.max_trials, args.epochs, args.out) == ("mnist1d", 4, 2, "o")
    assert (args.batch_size, args.seed, args.ensemble_method) == (64, 1, "average")
    assert args.func is search.run


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "cifar"], "invalid choice: 'cifar'"),
        (["--max-trials", "0"], "--max-trials: must be an integer >= 1. Received: 0"),
        (["--epochs", "two"], "--epochs: must be an integer >= 1. Received: two"),
        (["--batch-size", "-1"], "--batch-size: must be an integer >= 1. Received: -1"),
        (["--ensemble-method", "max"], "invalid choice: 'max'"),
    ],
)
def test_bad_values_are_refused_by_the_parser(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["search", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_choices_match_the_library():
    from keras_suite.tuner.builtin_datasets import DATASETS
    from keras_suite.tuner.ensemble import ENSEMBLE_METHODS

    assert search.DATASETS == DATASETS
    assert search.ENSEMBLE_METHODS == ENSEMBLE_METHODS


@pytest.mark.slow
def test_search_command_prints_results_and_paths_quietly(tmp_path):
    out_dir = tmp_path / "search"
    result = subprocess.run(
        [sys.executable, "-m", "keras_suite.cli.main", "search", "--max-trials", "2"]
        + ["--epochs", "1", "--out", str(out_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Model Search on digits: 2 trials x 1 epochs in ")
    assert lines[1].split()[:4] == ["trial", "type", "status", "val_accuracy"]
    assert any(line.startswith("best trial ") and "test_accuracy" in line for line in lines)
    for name, file in [
        ("objective_png", "objective.png"),
        ("lineage_png", "lineage.png"),
        ("best_model", "best.keras"),
        ("results_json", "results.json"),
    ]:
        assert f"{name}: {out_dir / file}" in lines
        assert (out_dir / file).is_file()
    # Standard error holds the progress over trials (a line a trial without a terminal), and
    # nothing from TensorFlow.
    assert result.stderr.startswith("trial 1/2 - score: ")
    assert "trial 2/2 - score: " in result.stderr
    for noise in ("oneDNN", "cpu_feature_guard", "absl::InitializeLog", "E0000", "Warning"):
        assert noise not in result.stderr


def test_a_bad_output_folder_is_one_line_and_status_2(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "keras_suite.cli.main", "search", "--out", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"keras-suite: error: `out_dir` must be a folder (or not exist yet), not a file. "
        f"Received: {path}\n"
    )
    assert result.stdout == ""

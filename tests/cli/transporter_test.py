import ast
import json
import os
import sys

import pytest

from keras_suite.cli import main as cli
from keras_suite.cli import transporter


def test_train_and_eval_parse_under_keras_suite_ravens():
    parser = cli.build_parser()
    args = parser.parse_args(
        ["ravens", "train", "--task", "block-insertion", "--n-demos", "10", "--steps", "5"]
    )
    assert args.func is transporter.run_train
    assert (args.task, args.n_demos, args.steps) == ("block-insertion", 10, 5)
    assert args.config is None and args.from_preset is None and args.learning_rate is None
    args = parser.parse_args(["ravens", "train", "--task", "x", "--from-preset", "some/preset"])
    assert args.from_preset == "some/preset"
    args = parser.parse_args(["ravens", "eval", "--model", "a", "b", "--episodes", "3"])
    assert args.func is transporter.run_eval
    assert args.model == ["a", "b"] and args.episodes == 3 and args.first_seed == 1
    args = parser.parse_args(["ravens", "eval", "--model", "a", "--first-seed", "101"])
    assert args.first_seed == 101 and args.subpixel_place is None  # each preset's own
    args = parser.parse_args(["ravens", "eval", "--model", "a", "--no-subpixel-place"])
    assert args.subpixel_place is False
    assert parser.parse_args(["ravens", "eval", "--list-presets"]).list_presets
    for bad in (
        ["train", "--task", "x", "--steps", "0"],
        ["eval", "--model", "a", "--first-seed", "2"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(["ravens", *bad])


def test_the_help_says_the_default_learning_rate_is_2e_4(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["ravens", "train", "--help"])
    assert "default 2e-4" in capsys.readouterr().out


def test_train_passes_the_options_and_prints_what_ran(tmp_path, monkeypatch, capsys):
    from keras_suite.zoo.transporter import training

    received = {}

    def train_transporter(task, demos_dir, out_dir, **kwargs):
        received.update(kwargs, task=task, demos_dir=demos_dir, out_dir=out_dir)
        return {
            "preset": None,
            "steps": 300,
            "start_step": 200,
            "seconds": 10.0,
            "checkpoint": os.path.join(out_dir, "checkpoint.keras"),
            "examples": 10,
            "losses": {"loss": 1.5},
            "averaged_checkpoints": None,
        }

    monkeypatch.setattr(training, "train_transporter", train_transporter)
    code = cli.main(["ravens", "train", "--task", "block-insertion", "--steps", "500"])
    assert code == 3  # time ran out before the preset
    assert received["out_dir"] == os.path.join("out", "ravens", "train", "block-insertion-10")
    assert received["steps"] == 500 and received["learning_rate"] is None
    assert callable(received["progress"])
    out = capsys.readouterr().out
    assert "100 training steps run (steps 200 to 300)" in out
    assert "checkpoint: out/ravens/train/block-insertion-10/checkpoint.keras" in out


def test_eval_checks_every_preset_before_evaluating_and_writes_nothing(tmp_path, monkeypatch):
    from keras_suite.zoo.transporter import evaluation

    folder = tmp_path / "preset"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "metadata.json").write_text(json.dumps({"parameter_count": 1}))
    monkeypatch.setattr(evaluation, "evaluate_preset", lambda *a, **k: pytest.fail("evaluated"))
    out = tmp_path / "eval"
    args = cli.build_parser().parse_args(
        ["ravens", "eval", "--model", "ravens_block_insertion", str(folder), "--out", str(out)]
    )
    with pytest.raises(ValueError, match="must name its `task` and `n_demos`"):
        args.func(args)
    assert not out.exists()
    args = cli.build_parser().parse_args(["ravens", "eval", "--out", str(out)])
    with pytest.raises(ValueError, match="`--model` must name at least one preset"):
        args.func(args)


def test_eval_writes_the_table_and_prints_the_paths(tmp_path, monkeypatch, capsys):
    from keras_suite.zoo.transporter import evaluation

    calls = []

    def evaluate_preset(name, episodes, **kwargs):
        calls.append((name, episodes, kwargs))
        return {
            "model": name,
            "task": "block-insertion",
            "n_demos": 10,
            "goal_conditioned": False,
            "score": 50.0,
            "success_rate": 50.0,
            "episodes": 2,
            "seeds": [1, 3],
        }

    monkeypatch.setattr(evaluation, "evaluate_preset", evaluate_preset)
    out = tmp_path / "eval"
    code = cli.main(
        ["ravens", "eval", "--model", "ravens_block_insertion", "--out", str(out)]
        + ["--episodes", "2", "--test-time-turns", "4", "--subpixel-place"]
    )
    assert code == 0
    assert calls[0][:2] == ("ravens_block_insertion", 2)
    assert calls[0][2]["test_time_turns"] == 4 and calls[0][2]["subpixel_place"] is True
    table = (out / "results.md").read_text()
    row = "| block-insertion |  | 50.0 (50% solved, 2 ep.) |  | 100.0 / 100.0 / 100.0 |  |"
    assert row in table
    printed = capsys.readouterr().out
    for name in ("results.json", "results.md", "results.png"):
        assert f"wrote {out / name}" in printed


def test_table_rebuilds_from_recorded_evaluations_alone(tmp_path, monkeypatch, capsys):
    import json

    from keras_suite.zoo import TransporterNet
    from keras_suite.zoo.transporter import evaluation

    monkeypatch.setattr(evaluation, "evaluate_preset", None)  # --table evaluates nothing
    out = tmp_path / "eval"
    out.mkdir()
    earlier = {"score": 40.0, "success_rate": 20.0, "episodes": 10, "mean_reward": 0.4}
    (out / "results.json").write_text(json.dumps({"sweeping-piles": {"1": earlier}}))
    assert cli.main(["ravens", "eval", "--table", "--out", str(out)]) == 0
    rows = {
        line.split(" | ")[0][2:]: line.split(" | ")
        for line in (out / "results.md").read_text().splitlines()
        if line.startswith("| ")
    }
    for name in TransporterNet.presets:
        metadata = evaluation.preset_metadata(name)
        if "evaluation" in metadata and not metadata.get("goal_conditioned"):
            recorded = metadata["evaluation"]
            cell = rows[metadata["task"]][2]  # the 10-demo column
            assert cell.startswith(f"{100 * recorded['mean_reward']:.1f} (")
            assert f"{recorded['episodes']} ep.)" in cell
    assert rows["sweeping-piles"][1] == "40.0 (20% solved, 10 ep.)"
    assert rows["sweeping-piles"][4:] == ["52.4 / 74.4 / 71.5", "98.2 / 99.1 / 99.2 |"]
    assert (out / "results.png").stat().st_size > 0
    assert f"wrote {out / 'results.md'}" in capsys.readouterr().out


def test_list_presets_prints_one_line_a_preset(capsys):
    from keras_suite.zoo import TransporterNet

    assert cli.main(["ravens", "eval", "--list-presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[0] for line in lines] == list(TransporterNet.presets)


@pytest.mark.parametrize("module", ["transporter", "ravens"])
def test_module_top_imports_only_the_standard_library_and_the_cli(module):
    path = os.path.join(os.path.dirname(transporter.__file__), f"{module}.py")
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in sys.stdlib_module_names or name.startswith(
                "keras_suite.cli"
            ), name

import os

import pytest

from keras_suite.cli import main as cli
from keras_suite.cli import ravens as ravens_cli


def test_ravens_sub_commands_parse():
    parser = cli.build_parser()
    args = parser.parse_args(["ravens", "collect", "--task", "block-insertion", "--n", "2"])
    assert args.func is ravens_cli.run_collect and args.n == 2 and args.split == "train"
    args = parser.parse_args(["ravens", "oracle", "--task", "towers-of-hanoi", "--episodes", "3"])
    assert args.func is ravens_cli.run_oracle and args.episodes == 3
    # The Transporter engineer's sub-commands hang under the same parser.
    ravens_parser = parser._subparsers._group_actions[0].choices["ravens"]
    commands = ravens_parser._subparsers._group_actions[0].choices
    assert {"collect", "oracle", "train", "eval"} <= set(commands)
    with pytest.raises(SystemExit):
        parser.parse_args(["ravens", "collect", "--task", "block-insertion", "--n", "-1"])


def test_collect_and_oracle_write_episodes_and_gifs(tmp_path, capsys):
    out = str(tmp_path)
    assert (
        cli.main(["ravens", "collect", "--task", "block-insertion", "--n", "1", "--out", out]) == 0
    )
    assert os.listdir(tmp_path / "block-insertion") == ["000000.npz"]
    assert (tmp_path / "block-insertion-train.gif").stat().st_size > 1000
    assert "demos/min" in capsys.readouterr().out
    code = cli.main(
        ["ravens", "oracle", "--task", "block-insertion", "--episodes", "1", "--out", out]
    )
    assert code == 0
    assert "block-insertion: oracle success 1/1 = 100%" in capsys.readouterr().out
    assert (tmp_path / "block-insertion.gif").stat().st_size > 1000


def test_unknown_task_lists_valid_names(capsys):
    with pytest.raises(SystemExit):
        cli.main(["ravens", "oracle", "--task", "nope", "--episodes", "1"])
    error = capsys.readouterr().err
    assert "invalid choice: 'nope'" in error and "'towers-of-hanoi'" in error

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
    ravens_parser = parser._subparsers._group_actions[0].choices["ravens"]
    commands = ravens_parser._subparsers._group_actions[0].choices
    assert {"collect", "oracle", "train", "eval"} <= set(commands)
    for bad in (
        ["collect", "--task", "x", "--n", "-1"],
        ["oracle", "--task", "x", "--episodes", "0"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(["ravens", *bad])


def test_collect_and_oracle_write_episodes_and_gifs(tmp_path, capsys):
    out = str(tmp_path)
    assert (
        cli.main(["ravens", "collect", "--task", "block-insertion", "--n", "1", "--out", out]) == 0
    )
    assert os.listdir(tmp_path / "block-insertion") == ["000000.npz"]
    assert (tmp_path / "block-insertion-train.gif").stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "demos/min" in printed and f"episodes: {tmp_path / 'block-insertion'}" in printed
    code = cli.main(
        ["ravens", "oracle", "--task", "block-insertion", "--episodes", "1", "--out", out]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "block-insertion: oracle success 1/1 = 100% (odd seeds 1-1)" in printed
    assert f"first episode: {tmp_path / 'block-insertion.gif'}" in printed
    assert (tmp_path / "block-insertion.gif").stat().st_size > 1000


def test_an_unknown_task_lists_valid_names_and_writes_nothing(tmp_path):
    out = tmp_path / "demos"
    args = cli.build_parser().parse_args(["ravens", "collect", "--task", "nope", "--out", str(out)])
    with pytest.raises(ValueError, match="Valid names: .*towers-of-hanoi. Received: task='nope'"):
        args.func(args)
    assert not out.exists()

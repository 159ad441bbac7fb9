import types

import pytest

from keras_suite.cli import main as cli
from keras_suite.cli.not_built import NotBuiltError


def _system(demo):
    return types.SimpleNamespace(run_demo=demo, add_parser=lambda subparsers: None)


def _not_built(out_dir):
    raise NotBuiltError("fake", issue=0)


def _broken(out_dir):
    raise RuntimeError("boom")


def test_demo_runs_every_system_and_skips_the_unbuilt(monkeypatch, tmp_path, capsys):
    ran = []
    systems = {
        "first": _system(lambda out_dir: ran.append(out_dir)),
        "unbuilt": _system(_not_built),
        "last": _system(lambda out_dir: ran.append(out_dir)),
    }
    monkeypatch.setattr(cli, "SYSTEMS", systems)
    args = types.SimpleNamespace(out=str(tmp_path), only=None)
    assert cli.run_demo(args) == 0
    assert ran == [str(tmp_path / "first"), str(tmp_path / "last")]
    assert "skipped: `keras-suite fake` is not built yet" in capsys.readouterr().out


def test_demo_fails_when_a_built_system_fails_but_runs_the_rest(monkeypatch, tmp_path):
    ran = []
    systems = {"broken": _system(_broken), "fine": _system(lambda out_dir: ran.append(1))}
    monkeypatch.setattr(cli, "SYSTEMS", systems)
    assert cli.run_demo(types.SimpleNamespace(out=str(tmp_path), only=None)) == 1
    assert ran == [1]


def test_every_system_has_a_sub_command():
    parser = cli.build_parser()
    for name in ["search", "dreamer", "ravens", "tf3d", "demo"]:
        args = parser.parse_args([name, "--out", "x"])
        assert args.out == "x"
        assert callable(args.func)


def test_a_sub_command_that_is_not_built_exits_non_zero(monkeypatch, capsys):
    def not_built(args):
        raise NotBuiltError("tf3d", issue=3)

    parser = cli.build_parser()
    args = parser.parse_args(["tf3d"])
    monkeypatch.setattr(cli, "build_parser", lambda: _parser_returning(args, not_built))
    assert cli.main(["tf3d"]) == 2
    assert "is not built yet" in capsys.readouterr().err


def _parser_returning(args, func):
    args.func = func
    return types.SimpleNamespace(parse_args=lambda argv: args)


def test_unknown_sub_command_is_refused():
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["nope"])

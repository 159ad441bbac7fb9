import os
import subprocess
import sys
import types

import pytest

from keras_suite.cli import main as cli
from keras_suite.cli import search

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY = (
    "keras",
    "tensorflow",
    "numpy",
    "tensorflow_datasets",
    "keras_tuner",
    "pybullet",
    "matplotlib",
    "jax",
    "torch",
)
#: TensorFlow's start-up lines, which the command hides unless `--verbose`.
BANNER = ("oneDNN", "cpu_feature_guard", "absl::InitializeLog", "E0000")


def _python(code, *args):
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def _heavy_modules_after(code):
    result = _python(f"import sys\n{code}\nprint(sorted(set({HEAVY!r}) & set(sys.modules)))")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _system(demo):
    return types.SimpleNamespace(run_demo=demo, add_parser=lambda subparsers: None)


def _broken(out_dir):
    raise RuntimeError("boom")


def test_every_system_has_a_sub_command():
    parser = cli.build_parser()
    for name in ["search", "dreamer", "ravens", "tf3d", "demo"]:
        args = parser.parse_args([name, "--out", "x"])
        assert args.out == "x"
        assert callable(args.func)
        assert (args.verbose, args.debug) == (False, False)


@pytest.mark.parametrize(
    "argv",
    [
        ["--verbose", "--debug", "search"],
        ["search", "--verbose", "--debug"],
        ["--debug", "search", "--verbose"],
        ["ravens", "--verbose", "train", "--task", "block-insertion", "--debug"],
        ["ravens", "eval", "--debug", "--verbose"],
    ],
)
def test_global_options_go_before_or_after_the_sub_command(argv):
    args = cli.build_parser().parse_args(argv)
    assert (args.verbose, args.debug) == (True, True)


def test_unknown_sub_command_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["nope"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_demo_runs_every_system_and_goes_on_after_a_failure(monkeypatch, tmp_path, capsys):
    ran = []
    systems = {
        "first": _system(lambda out_dir: ran.append(out_dir)),
        "broken": _system(_broken),
        "last": _system(lambda out_dir: ran.append(out_dir)),
    }
    monkeypatch.setattr(cli, "SYSTEMS", systems)
    args = types.SimpleNamespace(out=str(tmp_path), only=None, debug=False)
    assert cli.run_demo(args) == 1
    assert ran == [str(tmp_path / "first"), str(tmp_path / "last")]
    captured = capsys.readouterr()
    assert f"results in {tmp_path / 'last'}" in captured.out
    assert "failed: the broken demo raised RuntimeError: boom" in captured.err
    assert "keras-suite: error: demos that failed: broken (rerun with --debug" in captured.err
    assert "Traceback" not in captured.err


def test_demo_shows_the_traceback_with_debug(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cli, "SYSTEMS", {"broken": _system(_broken)})
    args = types.SimpleNamespace(out=str(tmp_path), only=None, debug=True)
    assert cli.run_demo(args) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and 'raise RuntimeError("boom")' in err


def _fail_with(monkeypatch, error):
    def handler(args):
        raise error

    monkeypatch.setattr(search, "run", handler)


@pytest.mark.parametrize(
    "error, status, line",
    [
        (
            ValueError("`--max-trials` must be at least 1.\n Received: 0"),
            2,
            "keras-suite: error: `--max-trials` must be at least 1. Received: 0",
        ),
        (FileNotFoundError("No folder. Received: /x"), 2, "keras-suite: error: No folder."),
        (NotADirectoryError("A file. Received: /x"), 2, "keras-suite: error: A file."),
        (
            RuntimeError("boom"),
            1,
            "keras-suite: error: RuntimeError: boom (rerun with --debug for the traceback)",
        ),
        (KeyError("k"), 1, "keras-suite: error: KeyError: 'k' (rerun with --debug"),
    ],
)
def test_an_error_is_one_line_and_an_exit_status(monkeypatch, capsys, error, status, line):
    _fail_with(monkeypatch, error)
    assert cli.main(["search"]) == status
    captured = capsys.readouterr()
    assert captured.err.startswith(line)
    assert len(captured.err.strip().splitlines()) == 1
    assert captured.out == ""


def test_debug_adds_the_traceback(monkeypatch, capsys):
    _fail_with(monkeypatch, ValueError("bad value. Received: 3"))
    assert cli.main(["search", "--debug"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "ValueError: bad value. Received: 3" in err
    assert err.strip().splitlines()[-1] == "keras-suite: error: bad value. Received: 3"


def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys):
    _fail_with(monkeypatch, KeyboardInterrupt())
    assert cli.main(["search"]) == 130
    assert capsys.readouterr().err == "keras-suite: interrupted\n"


def test_import_keras_suite_imports_nothing_heavy():
    assert _heavy_modules_after("import keras_suite\nkeras_suite.__version__") == "[]"


def test_parser_and_help_import_nothing_heavy():
    code = (
        "from keras_suite.cli import main\n"
        "parser = main.build_parser()\n"
        "for argv in [[], ['search'], ['dreamer'], ['ravens'], ['tf3d'], ['demo']]:\n"
        "    try:\n"
        "        parser.parse_args(argv + ['--help'])\n"
        "    except SystemExit:\n"
        "        pass"
    )
    assert _heavy_modules_after(code) == "[]"


def test_help_runs_as_a_command():
    result = subprocess.run(
        [sys.executable, "-m", "keras_suite.cli.main", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert "{search,dreamer,ravens,tf3d,demo}" in result.stdout
    assert "--verbose" in result.stdout and "--debug" in result.stdout
    assert result.stderr == ""


# A sub-command that imports TensorFlow, runs an op, warns and prints from C (as pybullet's
# banner does), as real ones do.
_NOISY_COMMAND = """
import ctypes
import sys
import warnings

from keras_suite.cli import main, search


def noisy(args):
    import tensorflow as tf

    print("sum", float(tf.reduce_sum(tf.ones(3))))
    warnings.warn("a noisy warning")
    ctypes.CDLL(None).printf(b"printed from C\\n")
    sys.stderr.write("progress shown\\n")
    return 0


search.run = noisy
sys.exit(main.main(sys.argv[1:]))
"""


def test_commands_are_quiet_by_default():
    result = _python(_NOISY_COMMAND, "search")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "sum 3.0\n"
    assert result.stderr == "progress shown\n"


def test_verbose_shows_the_logs_and_warnings():
    result = _python(_NOISY_COMMAND, "search", "--verbose")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == ["printed from C", "sum 3.0"]
    assert "a noisy warning" in result.stderr
    assert any(line in result.stderr for line in BANNER), result.stderr

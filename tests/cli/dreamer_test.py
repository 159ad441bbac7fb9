import argparse
import subprocess
import sys

import pytest

from keras_suite.cli import dreamer


def parse(*argv):
    parser = argparse.ArgumentParser()
    dreamer.add_parser(parser.add_subparsers())
    return parser.parse_args(["dreamer", *argv])


def test_parser():
    args = parse("--env", "atari:breakout", "--config", "tiny", "--jit", "--steps", "500")
    assert (args.env, args.config, args.jit, args.steps, args.func) == (
        "atari:breakout",
        "tiny",
        True,
        500,
        dreamer.run,
    )
    args = parse()
    assert (args.env, args.config, args.prefill, args.eval_preset, args.list_presets) == (
        "atari:pong",
        None,
        None,
        None,
        False,
    )
    assert dreamer.default_config("atari:pong") == "atari"
    assert dreamer.default_config("minatar:breakout") == "minatar"
    assert parse("--eval-preset", "tiny_cartpole_pixels", "--episodes", "3").episodes == 3
    args = parse("--env", "minatar:breakout", "--config", "minatar")
    assert (args.config, args.eval_seed, args.sampled_policy) == ("minatar", 1_000_000, False)
    assert parse("--eval-seed", "7", "--sampled-policy").eval_seed == 7
    assert parse("--from-preset", "pong_world_model").from_preset == "pong_world_model"
    from keras_suite.zoo.dreamer.evaluate import EVAL_SEED

    assert dreamer.EVAL_SEED == EVAL_SEED
    with pytest.raises(SystemExit):
        parse("--config", "huge")


def test_summary_says_what_ran():
    results = dict(
        env_steps=1000,
        updates=0,
        new_env_steps=1000,
        new_updates=0,
        prefill=50000,
        prefill_done=False,
    )
    assert dreamer.summary(results) == (
        "1000 environment steps, 0 updates: the prefill (50000 random steps) was not over"
    )
    results.update(
        env_steps=3000, updates=40, new_env_steps=2000, new_updates=40, prefill_done=True
    )
    assert dreamer.summary(results) == (
        "3000 environment steps, 40 updates (2000 steps, 40 updates this run)"
    )


def test_list_presets(capsys):
    assert dreamer.run(parse("--list-presets")) == 0
    lines = capsys.readouterr().out.splitlines()
    games = ("asterix", "breakout", "freeway", "seaquest", "space_invaders")
    assert {line.split(":")[0] for line in lines} == {
        "pong_agent",
        "pong_world_model",
        "tiny_cartpole_pixels",
        *(f"minatar_{game}" for game in games),
    }


def test_module_imports_no_heavy_library():
    code = (
        "import sys, keras_suite.cli.dreamer; "
        "print(sorted(m for m in ('keras', 'tensorflow', 'numpy', 'gymnasium')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_eval_records_scores_and_writes_a_gif(tmp_path, capsys):
    import os
    import shutil

    from keras_suite.zoo import DreamerV2

    folder, gif = str(tmp_path / "agent"), str(tmp_path / "play.gif")
    shutil.copytree(os.path.join(DreamerV2.preset_dir, "tiny_cartpole_pixels"), folder)
    argv = ["--eval-preset", folder, "--env", "cartpole_pixels", "--episodes", "2"]
    assert dreamer.run(parse(*argv, "--record", "--gif", gif)) == 0
    out = capsys.readouterr().out
    assert f"wrote {gif}" in out and "recorded in" in out and os.path.isfile(gif)
    evaluation = DreamerV2.preset_metadata(folder)["evaluation"]
    assert evaluation["seeds"] == [1_000_000, 1_000_001] and evaluation["episodes"] == 2
    assert evaluation["env"] == "cartpole_pixels" and evaluation["policy"] == "greedy"
    with pytest.raises(ValueError, match="--eval-preset must be one"):
        dreamer.run(parse("--eval-preset", "tiny_cartpole_pixels", "--record"))


@pytest.mark.backend_independent
def test_table_lists_the_five_games(capsys):
    assert dreamer.run(parse("--table")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| asterix",
        "| breakout",
        "| freeway",
        "| seaquest",
        "| space_invaders",
    ]


@pytest.mark.backend_independent
def test_curves_draws_the_runs_in_a_folder(tmp_path, capsys):
    (tmp_path / "breakout").mkdir()
    (tmp_path / "breakout" / "metrics.jsonl").write_text('{"episode/return": 1.0, "step": 9}\n')
    assert dreamer.run(parse("--curves", str(tmp_path))) == 0
    path = tmp_path / "learning_curves.png"
    assert capsys.readouterr().out == f"wrote {path}\n" and path.is_file()

import argparse

import pytest

from keras_suite.cli import dreamer
from keras_suite.envs import GymAdapter
from keras_suite.envs.atari import Atari


def test_parser_and_env_factory():
    parser = argparse.ArgumentParser()
    dreamer.add_parser(parser.add_subparsers())
    args = parser.parse_args(["dreamer", "--env", "atari:breakout", "--config", "tiny", "--jit"])
    assert (args.env, args.config, args.jit, args.func) == (
        "atari:breakout",
        "tiny",
        True,
        dreamer.run,
    )
    env = dreamer.make_env("atari:pong", time_limit=10)
    assert isinstance(env, Atari) and env.time_limit == 10
    assert isinstance(dreamer.make_env("CartPole-v1"), GymAdapter)
    with pytest.raises(SystemExit):
        parser.parse_args(["dreamer", "--config", "huge"])

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


def test_observation_shape_picks_image_or_vector_keys():
    assert dreamer.observation_shape(dreamer.make_env("CartPole-v1").reset()) == {"vector": (4,)}
    pong = dreamer.make_env("atari:pong", time_limit=10).reset()
    assert dreamer.observation_shape(pong) == (64, 64, 1)
    with pytest.raises(ValueError, match="neither"):
        dreamer.observation_shape({"reward": 0.0, "is_first": True})

import numpy as np
import pytest

from keras_suite.envs import ravens

from ..conftest import fixed_bodies, place


@pytest.fixture(scope="module")
def env():
    env = ravens.make("sweeping-piles")
    yield env
    env.close()


def _scene(env, seed):
    env.reset(seed=seed)
    (zone,) = fixed_bodies(env)
    return env.pose(zone)[0], sorted(env.movable)


def test_all_blocks_in_the_zone_is_a_success(env):
    centre, blocks = _scene(env, 1)
    assert len(blocks) == 50
    rng = np.random.default_rng(0)
    for block in blocks:  # within 4 cm of the centre of the 12 cm zone, at any rotation
        dx, dy = rng.uniform(-0.04, 0.04, 2)
        place(env, block, (centre[0] + dx, centre[1] + dy, 0.005), rng.uniform(0, np.pi))
    assert env.task.reward(env) == pytest.approx(1.0)
    assert env.task.done()


def test_one_block_left_out_is_not_a_success(env):
    centre, blocks = _scene(env, 3)
    assert env.task.reward(env) == 0.0  # the pile starts away from the zone
    for block in blocks:
        place(env, block, (centre[0], centre[1], 0.005))
    place(env, blocks[7], (centre[0] + 0.1, centre[1], 0.005))
    assert env.task.reward(env) == pytest.approx(49 / 50)
    assert not env.task.done()

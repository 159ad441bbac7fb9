import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens.arm import yaw_of


@pytest.fixture(scope="module")
def env():
    env = ravens.make("block-insertion")
    yield env
    env.close()


def _scene(env, seed):
    env.reset(seed=seed)
    (block,) = env.movable
    (fixture,) = [
        b for b in range(env.client.getNumBodies()) if b not in (env.plane, env.arm.body, block)
    ]
    return block, fixture


def test_block_in_the_fixture_is_a_success(env):
    block, fixture = _scene(env, 1)
    position, orientation = env.pose(fixture)
    # The L sits on the table inside the fixture frame, rotated as the fixture.
    env.client.resetBasePositionAndOrientation(block, [*position[:2], 0.02], orientation)
    assert env.task.reward(env) == pytest.approx(1.0)
    assert env.task.done()


@pytest.mark.parametrize(
    "offset, turn",
    [((0.02, 0.0), 0.0), ((0.0, 0.0), np.pi / 2), ((0.0, 0.0), np.pi)],
)
def test_block_shifted_or_turned_is_not_a_success(env, offset, turn):
    block, fixture = _scene(env, 3)
    position, orientation = env.pose(fixture)
    yaw = yaw_of(orientation) + turn
    env.client.resetBasePositionAndOrientation(
        block,
        [position[0] + offset[0], position[1] + offset[1], 0.02],
        [0, 0, np.sin(yaw / 2), np.cos(yaw / 2)],
    )
    assert env.task.reward(env) == 0.0
    assert not env.task.done()


def test_initial_scene_is_unsolved(env):
    _scene(env, 5)
    assert env.task.reward(env) == 0.0
    assert not env.task.done()
    assert env.max_steps == 3

import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens.tasks.align_box_corner import corner_parts

from ..conftest import place


@pytest.fixture(scope="module")
def env():
    env = ravens.make("align-box-corner")
    yield env
    env.close()


def _scene(env, seed):
    env.reset(seed=seed)
    (box,) = env.movable
    corner = [
        b for b in range(env.client.getNumBodies()) if b not in (env.plane, env.arm.body, box)
    ][0]
    low, high = (np.array(v) for v in env.client.getAABB(box))
    position, orientation = env.pose(box)
    yaw = 2 * np.arctan2(orientation[2], orientation[3])
    # The box's own size, measured in its frame from its AABB when turned back to yaw 0.
    place(env, box, position, 0.0)
    low, high = (np.array(v) for v in env.client.getAABB(box))
    size = high - low
    place(env, box, position, yaw)
    corner_position, corner_orientation = env.pose(corner)
    corner_yaw = 2 * np.arctan2(corner_orientation[2], corner_orientation[3])
    return box, size, corner_position, corner_yaw


def _rotate(yaw, vector):
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([c * vector[0] - s * vector[1], s * vector[0] + c * vector[1]])


@pytest.mark.parametrize("seed", [1, 3])
def test_the_four_poses_covering_the_corner_are_successes(env, seed):
    box, size, corner, yaw = _scene(env, seed)
    sx, sy = size[0] / 2, size[1] / 2
    # The marked corner point is (+sx, +sy) in the corner frame. A box covering it with its own
    # corner: aligned, turned by pi (same footprint), or turned by +-pi/2 with its centre moved
    # so that its (sy, sx) half extents still end at that point.
    poses = [
        ((0.0, 0.0), 0.0),
        ((0.0, 0.0), np.pi),
        ((sx - sy, sy - sx), np.pi / 2),
        ((sx - sy, sy - sx), -np.pi / 2),
    ]
    for offset, turn in poses:
        centre = corner[:2] + _rotate(yaw, offset)
        place(env, box, (*centre, size[2] / 2), yaw + turn)
        assert env.task.goal_score(env, env.task.goals[0]) == pytest.approx(1.0), (offset, turn)


def test_a_box_off_the_corner_is_not_a_success(env):
    box, size, corner, yaw = _scene(env, 5)
    centre = corner[:2] + _rotate(yaw, (0.02, 0.0))
    place(env, box, (*centre, size[2] / 2), yaw)
    assert env.task.reward(env) == 0.0
    place(env, box, (*corner[:2], size[2] / 2), yaw + np.pi / 4)
    assert env.task.reward(env) == 0.0
    assert not env.task.done()
    place(env, box, (*corner[:2], size[2] / 2), yaw)
    assert env.task.reward(env) == pytest.approx(1.0)
    assert env.task.done()


def test_the_corner_mark_is_ravens_two_55_mm_bars_outside_the_corner():
    size = (0.08, 0.12, 0.03)
    sx, sy = size[0] / 2, size[1] / 2
    spans = []
    for _, dims, position, _ in corner_parts(size):
        low = np.array(position[:2]) - np.array(dims[:2]) / 2
        spans.append((low, low + np.array(dims[:2])))
    # One bar along +y's side, one along +x's side, each 55 mm long and 5 mm wide, just
    # outside the footprint and meeting at the corner (sx, sy), 5 mm past it.
    np.testing.assert_allclose(spans[0], [[sx - 0.05, sy], [sx + 0.005, sy + 0.005]], atol=1e-9)
    np.testing.assert_allclose(spans[1], [[sx, sy - 0.05], [sx + 0.005, sy + 0.005]], atol=1e-9)

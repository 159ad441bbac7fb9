import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens.tasks.assembling_kits import SHAPES, TEST_SHAPES, TRAIN_SHAPES

from ..conftest import place


@pytest.fixture(scope="module")
def env():
    env = ravens.make("assembling-kits")
    yield env
    env.close()


def _yaw(env, body):
    orientation = env.pose(body)[1]
    return 2 * np.arctan2(orientation[2], orientation[3])


def _solve(env):
    free = list(env.task.slots)
    for piece, shape in env.task.pieces:
        slot = next(s for s in free if s[1] == shape)
        free.remove(slot)
        x, y, z = env.pose(slot[0])[0]
        place(env, piece, (x, y, z + 0.01), _yaw(env, slot[0]))


@pytest.mark.parametrize("seed", [0, 1])
def test_every_piece_in_a_silhouette_of_its_shape_is_a_success(env, seed):
    env.reset(seed=seed)
    shapes = {shape for _, shape in env.task.pieces}
    assert shapes <= set(TRAIN_SHAPES if seed % 2 == 0 else TEST_SHAPES)
    _solve(env)
    assert env.task.reward(env) == pytest.approx(1.0)
    assert env.task.done()


def test_turned_or_misplaced_pieces_do_not_count(env):
    env.reset(seed=3)
    _solve(env)
    piece, shape = env.task.pieces[0]
    symmetry = SHAPES[shape][2]
    assert symmetry > 0  # test shapes all have an orientation
    goal = env.task.goals[0]
    assert env.task.goal_score(env, goal) == pytest.approx(1.0)
    x, y, z = env.pose(piece)[0]
    yaw = _yaw(env, piece)
    place(env, piece, (x, y, z), yaw + symmetry / 2)  # the worst turn
    assert env.task.goal_score(env, goal) == pytest.approx(4 / 5)
    place(env, piece, (x + 0.015, y, z), yaw)  # not turned, but 1.5 cm off
    assert env.task.goal_score(env, goal) == pytest.approx(4 / 5)
    place(env, piece, (x + 0.005, y, z), yaw + np.radians(10))  # within 1 cm and 15 degrees
    assert env.task.goal_score(env, goal) == pytest.approx(1.0)

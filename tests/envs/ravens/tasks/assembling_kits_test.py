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
    # A piece that has an orientation (the ring looks the same at any turn).
    piece, shape = next((b, s) for b, s in env.task.pieces if SHAPES[s][2] > 0)
    symmetry = SHAPES[shape][2]
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


#: Top-face areas (cm^2) of the original's twenty kit meshes (original Ravens
#: assets/kitting/00.obj ... 19.obj scaled by 0.003, measured from their triangles).
ORIGINAL_AREAS = (
    15.2,
    13.08,
    18.0,
    36.0,
    27.0,
    18.36,
    22.5,
    21.47,
    33.75,
    23.11,
    14.87,
    28.23,
    15.82,
    12.03,
    13.18,
    18.36,
    23.18,
    23.38,
    21.43,
    22.68,
)
#: Their turns of symmetry (original Ravens tasks/assembling_kits.py).
ORIGINAL_SYMMETRY = (
    2,
    2,
    2 / 3,
    1 / 2,
    1 / 2,
    2,
    1,
    2 / 5,
    1,
    1 / 2,
    2 / 5,
    0,
    2,
    2,
    2,
    2,
    0,
    1 / 3,
    2,
    2,
)


def _area(index):
    """The area covered by a shape's polygons, counted on a 0.5 mm grid."""
    grid = np.stack(np.meshgrid(*[np.arange(-0.04, 0.04, 0.0005) + 0.00025] * 2), -1)
    grid = grid.reshape(-1, 2)
    inside = np.zeros(len(grid), bool)
    for polygon in SHAPES[index][1]:
        polygon = np.asarray(polygon) / 100
        edges = np.roll(polygon, -1, axis=0) - polygon
        cross = edges[:, 0] * (grid[:, None, 1] - polygon[:, 1]) - edges[:, 1] * (
            grid[:, None, 0] - polygon[:, 0]
        )
        inside |= np.all(cross >= 0, axis=1) | np.all(cross <= 0, axis=1)
    return inside.sum() * 0.0005**2 * 1e4


def test_shapes_are_the_originals_twenty():
    assert len(SHAPES) == 20
    assert TRAIN_SHAPES == tuple(range(14)) and TEST_SHAPES == tuple(range(14, 20))
    for index, (name, _, symmetry) in enumerate(SHAPES):
        assert symmetry == pytest.approx(ORIGINAL_SYMMETRY[index] * np.pi), name
        assert _area(index) == pytest.approx(ORIGINAL_AREAS[index], rel=0.11), name


def test_object_classes(env):
    env.reset(seed=0)
    classes = env.task.object_classes
    assert len(classes["kit"]) == 1
    assert classes["silhouette"] == [body for body, _ in env.task.slots]
    assert classes["piece"] == [body for body, _ in env.task.pieces]
    # Original Ravens assets/kitting/kit.urdf: a brown 28 x 20 x 0.5 cm board.
    (kit,) = classes["kit"]
    shape = env.client.getVisualShapeData(kit)[0]
    np.testing.assert_allclose(shape[3], (0.28, 0.2, 0.005))
    np.testing.assert_allclose(np.array(shape[7][:3]) * 255, (156, 117, 95), atol=0.5)

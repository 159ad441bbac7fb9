import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens import objects

from ..conftest import body_color, fixed_bodies, place


@pytest.fixture(scope="module")
def env():
    env = ravens.make("stack-block-pyramid")
    yield env
    env.close()


def _scene(env, seed):
    env.reset(seed=seed)
    (stand,) = fixed_bodies(env)
    position, orientation = env.pose(stand)
    yaw = 2 * np.arctan2(orientation[2], orientation[3])
    along = np.array([-np.sin(yaw), np.cos(yaw)])  # the stand's long (local y) axis
    colors = {body_color(env, b): b for b in env.movable}
    blocks = {
        name: colors[tuple(round(c, 2) for c in objects.COLORS[name])]
        for name in ("purple", "blue", "green", "yellow", "orange", "red")
    }

    def spot(offset, level):
        # Blocks are 4 cm: rows at 2, 6 and 10 cm over the 5 mm stand, 5 cm apart.
        xy = position[:2] + offset * along
        return (*xy, 0.005 + 0.02 + 0.04 * level)

    return blocks, spot, yaw


def test_the_pyramid_built_row_by_row_earns_one_half_one_third_one_sixth(env):
    blocks, spot, yaw = _scene(env, 1)
    for name, offset in (("green", -0.05), ("purple", 0.0), ("blue", 0.05)):
        place(env, blocks[name], spot(offset, 0), yaw + 0.1)  # rotation within 15 degrees
    assert env.task.reward(env) == pytest.approx(1 / 2)
    for name, offset in (("orange", -0.025), ("yellow", 0.025)):
        place(env, blocks[name], spot(offset, 1), yaw + np.pi / 2)  # square: turns allowed
    assert env.task.reward(env) == pytest.approx(1 / 3)
    place(env, blocks["red"], spot(0.0, 2), yaw)
    assert env.task.reward(env) == pytest.approx(1 / 6)
    assert env.task.done()


def test_wrong_colours_or_order_earn_nothing(env):
    blocks, spot, yaw = _scene(env, 3)
    place(env, blocks["red"], spot(0.0, 0), yaw)  # the top block first
    place(env, blocks["yellow"], spot(-0.05, 0), yaw)
    place(env, blocks["orange"], spot(0.05, 0), yaw)
    assert env.task.reward(env) == 0.0
    place(env, blocks["green"], spot(0.0, 0), yaw + np.pi / 4)  # turned 45 degrees
    assert env.task.reward(env) == 0.0
    assert not env.task.done()


def test_scene_is_the_originals_three_tile_stand_and_six_blocks(env):
    env.reset(seed=0)
    classes = env.task.object_classes
    (stand,) = classes["stand"]
    assert len(classes["block"]) == 6 and set(classes["block"]) == env.movable
    # Original Ravens assets/stacking/stand.urdf: three 5 x 5 x 0.5 cm tiles along y, brown
    # (156, 117, 95) in the middle, light brown (234, 175, 142) at y -5 cm and dark brown
    # (78, 58.5, 47.5) at y +5 cm, all out of 255.
    shapes = env.client.getVisualShapeData(stand)
    assert [s[1] for s in shapes] == [-1, 0, 1]
    expected = [(156, 117, 95), (234, 175.5, 142.5), (78, 58.5, 47.5)]
    for shape, rgb in zip(shapes, expected):
        np.testing.assert_allclose(np.array(shape[7][:3]) * 255, rgb, atol=0.5)
        np.testing.assert_allclose(shape[3], (0.05, 0.05, 0.005))
    low, high = (np.array(v) for v in env.client.getAABB(stand, 1))
    centre = env.pose(stand)[0]
    yaw = 2 * np.arctan2(env.pose(stand)[1][2], env.pose(stand)[1][3])
    tile = centre[:2] + 0.05 * np.array([-np.sin(yaw), np.cos(yaw)])  # +5 cm along local y
    np.testing.assert_allclose((low[:2] + high[:2]) / 2, tile, atol=1e-6)
    assert high[2] == pytest.approx(0.005, abs=1e-4)

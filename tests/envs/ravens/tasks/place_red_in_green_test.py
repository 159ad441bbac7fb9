import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens import objects

from ..conftest import body_color, fixed_bodies, place

RED = tuple(round(c, 2) for c in objects.COLORS["red"])
GREEN = tuple(round(c, 2) for c in objects.COLORS["green"])


@pytest.fixture(scope="module")
def env():
    env = ravens.make("place-red-in-green")
    yield env
    env.close()


def _scene(env):
    # Seed 5 has 3 green bowls and 3 red blocks (checked below), the hardest case.
    env.reset(seed=5)
    bowls = [b for b in fixed_bodies(env) if body_color(env, b) == GREEN]
    blocks = [b for b in sorted(env.movable) if body_color(env, b) == RED]
    return bowls, blocks


def test_every_red_block_in_its_own_green_bowl_is_a_success(env):
    bowls, blocks = _scene(env)
    assert len(bowls) == 3 and len(blocks) == 3
    for bowl, block in zip(bowls, blocks):
        x, y, _ = env.pose(bowl)[0]
        place(env, block, (x + 0.02, y - 0.01, 0.026))  # anywhere inside the 5 cm tolerance
    assert env.task.reward(env) == pytest.approx(1.0)
    assert env.task.done()


def test_two_blocks_in_one_bowl_is_not_a_success(env):
    bowls, blocks = _scene(env)
    x, y, _ = env.pose(bowls[0])[0]
    place(env, blocks[0], (x - 0.02, y, 0.026))
    place(env, blocks[1], (x + 0.02, y, 0.026))
    x, y, _ = env.pose(bowls[1])[0]
    place(env, blocks[2], (x, y, 0.026))
    # Two of three blocks are matched to distinct bowls: partial reward only.
    assert env.task.reward(env) == pytest.approx(2 / 3)
    assert not env.task.done()


def test_block_outside_the_bowl_is_not_counted(env):
    bowls, blocks = _scene(env)
    for bowl, block in zip(bowls, blocks):
        x, y, _ = env.pose(bowl)[0]
        place(env, block, (x + 0.06, y, 0.02))  # beyond the 5 cm tolerance
    assert env.task.reward(env) == 0.0
    assert not env.task.done()

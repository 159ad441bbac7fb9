import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens.cameras import position_to_pixel
from keras_suite.envs.ravens.tasks.towers_of_hanoi import hanoi_moves

from ..conftest import fixed_bodies, place

# The seven moves of three-disk Hanoi from rod 0 to rod 2, written out by hand (disk 0 smallest).
HAND_MOVES = [(0, 0, 2), (1, 0, 1), (0, 2, 1), (2, 0, 2), (0, 1, 0), (1, 1, 2), (0, 0, 2)]


def test_hanoi_moves_match_the_hand_solution():
    assert hanoi_moves(3) == HAND_MOVES
    assert len(hanoi_moves(4)) == 15


@pytest.fixture(scope="module")
def env():
    env = ravens.make("towers-of-hanoi")
    yield env
    env.close()


def _scene(env, seed=1):
    env.reset(seed=seed)
    (stand,) = fixed_bodies(env)
    position, orientation = env.pose(stand)
    yaw = 2 * np.arctan2(orientation[2], orientation[3])
    along = np.array([-np.sin(yaw), np.cos(yaw), 0.0])  # the stand's long axis
    rods = [position + k * 0.12 * along for k in (-1, 0, 1)]
    # Disks by size: the AABB of the smallest is the narrowest.
    disks = sorted(
        env.movable,
        key=lambda b: np.ptp(np.array(env.client.getAABB(b)), axis=0)[:2].max(),
    )
    return rods, disks


def test_playing_the_hand_solution_earns_one_seventh_per_move(env):
    rods, disks = _scene(env)
    stacks = {0: [2, 1, 0], 1: [], 2: []}
    total = 0.0
    for disk, source, target in HAND_MOVES:
        assert stacks[source][-1] == disk
        stacks[source].pop()
        stacks[target].append(disk)
        level = len(stacks[target]) - 1
        x, y, _ = rods[target]
        place(env, disks[disk], (x, y, 0.01 + 0.015 * (level + 0.5)))
        reward = env.task.reward(env)
        assert reward == pytest.approx(1 / 7)
        total += reward
    assert total == pytest.approx(1.0)
    assert env.task.done()


def test_moving_a_disk_out_of_order_earns_nothing(env):
    rods, disks = _scene(env, seed=3)
    x, y, _ = rods[2]
    place(env, disks[1], (x, y, 0.0175))  # the middle disk cannot move first
    assert env.task.reward(env) == 0.0
    place(env, disks[0], (rods[1][0], rods[1][1], 0.0175))  # smallest to the wrong rod
    assert env.task.reward(env) == 0.0
    assert not env.task.done()


def test_the_stand_tells_the_source_end_from_the_goal_end(env):
    # Turned by pi, a symmetric stand would make the scene after move 1 look like the scene
    # after move 6 (and 2 like 5, 3 like 4), which need different moves. As in Ravens, the pad
    # under rod 0 is light and the one under rod 2 dark, in the top-down map the agent sees.
    rods, _ = _scene(env, seed=5)
    observation, _ = env.reset(seed=5)  # the same scene, with its map
    across = np.cross(rods[2] - rods[0], (0.0, 0.0, 1.0))
    across = 0.052 * across / np.linalg.norm(across)  # past the largest disk, on the pad
    colormap = observation["colormap"].astype(float)
    pads = [colormap[tuple(position_to_pixel(rod + across))] for rod in rods]
    for a, b in ((0, 1), (1, 2), (0, 2)):
        assert np.linalg.norm(pads[a] - pads[b]) > 30, pads

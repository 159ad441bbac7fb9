"""place-red-in-green: put each red block into a different green bowl, among distractors."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task

#: Sizes the poses are drawn for (original Ravens tasks/place_red_in_green.py).
BLOCK_SIZE = (0.04, 0.04, 0.04)
BOWL_SIZE = (0.12, 0.12, 0.0)
#: Where the bowl's axis lies in its frame: the original's bowl mesh
#: (assets/bowl/textured-0008192.obj, scaled 1.25 x 1.25 x 0.25) is not centred on its URDF
#: frame, which is the goal pose; its rendered centre sits here (measured in its fused maps).
BOWL_CENTER = (-0.0248, 0.0081)
#: The bowl's cross-section, `(radius, z)` in metres, measured from the same mesh: a 6.5 mm
#: floor, walls flaring from 4.4 cm to 5.7 cm, the rim 3.5 cm high.
BOWL_PROFILE = (
    (0.0, 0.0),
    (0.044, 0.0),
    (0.047, 0.008),
    (0.050, 0.018),
    (0.053, 0.026),
    (0.057, 0.0347),
    (0.052, 0.0347),
    (0.048, 0.0306),
    (0.044, 0.0228),
    (0.040, 0.0123),
    (0.036, 0.0086),
    (0.020, 0.0068),
    (0.0, 0.0064),
)
#: Distractors (original: ten, of the palette's colours but red for blocks, green for bowls).
N_DISTRACTORS = 10


def bowl_parts():
    """The bowl's collision shape: a floor disk and a ring of wall boxes, frame at its bottom."""
    cx, cy = BOWL_CENTER
    parts = [objects.cylinder_part(0.044, 0.0065, (cx, cy, 0.00325))]
    for kind, dims, (x, y, z), yaw in objects.ring_parts(0.044, 0.054, 0.03, segments=8, z=0.018):
        parts.append((kind, dims, (x + cx, y + cy, z), yaw))
    return parts


def add_bowl(client, pose, color, mass):
    return objects.add_compound(
        client,
        bowl_parts(),
        pose,
        color,
        mass=mass,
        visual=objects.lathe(BOWL_PROFILE, segments=24, center=BOWL_CENTER),
    )


class PlaceRedInGreen(Task):
    """1-3 green bowls, 1-3 red blocks (no more than bowls) and ten distractors.

    Object classes: "bowl", "block" (the red ones), "distractor_bowl", "distractor_block".
    """

    name = "place-red-in-green"
    max_steps = 10
    pos_eps = 0.05

    def build(self, env, rng):
        n_bowls = int(rng.integers(1, 4))
        n_blocks = int(rng.integers(1, n_bowls + 1))
        bowls = []
        for _ in range(n_bowls):
            pose = env.random_pose(BOWL_SIZE, rng)
            self.classify("bowl", add_bowl(env.client, pose, "green", mass=0))
            bowls.append(pose)
        blocks = []
        for _ in range(n_blocks):
            pose = env.random_pose(BLOCK_SIZE, rng)
            block = env.add_movable(objects.add_box(env.client, BLOCK_SIZE, pose, "red"))
            blocks.append(self.classify("block", block))
        self.goals.append(Goal([(b, 0.0) for b in blocks], np.ones((n_blocks, n_bowls)), bowls))
        bowl_colors = [c for c in objects.COLORS if c != "green"]
        block_colors = [c for c in objects.COLORS if c != "red"]
        placed = 0
        for _ in range(5 * N_DISTRACTORS):  # the original retries until ten are placed
            if placed == N_DISTRACTORS:
                break
            is_block = rng.random() > 0.5
            size = BLOCK_SIZE if is_block else BOWL_SIZE
            pose = env.random_pose(size, rng, required=False)
            if pose is None:
                continue
            if is_block:
                color = block_colors[placed % len(block_colors)]
                body = objects.add_box(env.client, size, pose, color)
            else:
                color = bowl_colors[placed % len(bowl_colors)]
                body = add_bowl(env.client, pose, color, mass=0.1)
            self.classify("distractor_block" if is_block else "distractor_bowl", body)
            env.add_movable(body)
            placed += 1

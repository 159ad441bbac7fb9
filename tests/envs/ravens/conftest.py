"""Helpers shared by the Ravens tests: hand placement of bodies and body lookup."""

import numpy as np


def place(env, body, position, yaw=0.0):
    """Puts `body` at `position` with rotation `yaw` about z (no physics step)."""
    env.client.resetBasePositionAndOrientation(
        body, list(position), [0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)]
    )


def body_color(env, body):
    return tuple(np.round(env.client.getVisualShapeData(body)[0][7][:3], 2))


def fixed_bodies(env):
    """Bodies with zero mass other than the ground and the arm, in creation order."""
    ids = [env.client.getBodyUniqueId(i) for i in range(env.client.getNumBodies())]
    return [
        b
        for b in ids
        if b not in (env.plane, env.arm.body) and env.client.getDynamicsInfo(b, -1)[0] == 0
    ]

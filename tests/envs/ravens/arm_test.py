import numpy as np
import pybullet as p
import pytest
from pybullet_utils import bullet_client

from keras_suite.envs.ravens.arm import Arm, yaw_of


def test_inverse_kinematics_hand_computed():
    # (0.3, 0.4, 0.1): base yaw atan2(0.4, 0.3), reach 0.5, quill 0.62 - 0.03 - 0.1 = 0.49;
    # a tool yaw of 1.2 needs the wrist at 1.2 minus the base yaw.
    joints = Arm.inverse_kinematics((0.3, 0.4, 0.1), yaw=1.2)
    np.testing.assert_allclose(
        joints, [np.arctan2(0.4, 0.3), 0.5, 0.49, 1.2 - np.arctan2(0.4, 0.3)]
    )
    position, yaw = Arm.forward_kinematics(joints)
    np.testing.assert_allclose(position, (0.3, 0.4, 0.1), atol=1e-12)
    assert yaw == pytest.approx(1.2)


@pytest.mark.parametrize("position", [(0.05, 0.0, 0.1), (1.2, 0.0, 0.1), (0.5, 0.0, 0.8)])
def test_out_of_reach_positions_raise(position):
    with pytest.raises(ValueError, match="out of the arm's"):
        Arm.inverse_kinematics(position)


def test_quaternion_yaw():
    assert yaw_of(p.getQuaternionFromEuler((0, 0, 0.7))) == pytest.approx(0.7)
    assert yaw_of(p.getQuaternionFromEuler((0, 0, -2.5))) == pytest.approx(-2.5)


def test_the_simulated_tool_reaches_the_commanded_pose():
    client = bullet_client.BulletClient(connection_mode=p.DIRECT)
    try:
        client.setGravity(0, 0, -9.8)
        client.setPhysicsEngineParameter(fixedTimeStep=1 / 120)
        arm = Arm(client)
        for target, yaw in [((0.5, -0.3, 0.2), 0.5), ((0.7, 0.45, 0.05), -2.0)]:
            assert arm.move_tip(target, yaw)
            position, actual_yaw = arm.tip_pose()
            np.testing.assert_allclose(position, target, atol=2e-3)
            assert actual_yaw == pytest.approx(yaw, abs=5e-3)
        assert arm.go_home()
    finally:
        client.disconnect()

import numpy as np
import pytest

from keras_suite.envs import ravens


def _run(env, agent, seed):
    obs, info = env.reset(seed=seed)
    total, actions = 0.0, []
    while True:
        action = agent.act(obs, info)
        if action is None:
            break
        actions.append(action)
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        if terminated or truncated:
            break
    return info, total, actions


def test_pick_points_lie_on_the_object_surface():
    env = ravens.make("align-box-corner")
    try:
        obs, info = env.reset(seed=7)
        (box,) = env.movable
        low, high = (np.array(v) for v in env.client.getAABB(box))
        agent = ravens.OracleAgent(env)
        for seed in range(5):  # new agent seeds: different points, all on the box top
            agent = ravens.OracleAgent(env, seed=seed)
            position, _ = agent.act(obs, info)["pose0"]
            assert np.all(position[:2] > low[:2]) and np.all(position[:2] < high[:2])
            assert position[2] == pytest.approx(high[2], abs=0.004)
        _, _, _, _, info = env.step(agent.act(obs, info))
        assert info["success"]
        assert agent.act(obs, info) is None  # nothing left to do
    finally:
        env.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    "task",
    ["assembling-kits", "manipulating-rope", "packing-boxes", "stack-block-pyramid"],
)
def test_oracle_solves_an_unseen_episode(task):
    env = ravens.make(task)
    try:
        info, total, actions = _run(env, ravens.OracleAgent(env), seed=3)
        assert info["success"], (task, total)
        assert total == pytest.approx(1.0, abs=0.01)
        assert len(actions) <= env.max_steps
    finally:
        env.close()

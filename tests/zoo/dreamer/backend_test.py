"""One DreamerV2 update on the current backend against the same update written out by hand.

The reference runs the three phases eagerly, outside `train_step`: the gradients of each loss
from `value_and_grad` (the backend's autodiff, itself checked against closed forms in
`tests/ops/static_scan_test.py`, `tests/losses/kl_balancing_test.py` and the straight-through
tests), Adam with global-norm clipping written in NumPy from its published update rule, and the
target-critic copy. `train_step` (compiled with `jax.jit` on JAX, a graph on TensorFlow) must
give the same losses and the same variables.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.zoo import DreamerV2
from keras_suite.zoo.dreamer.backend import value_and_grad
from keras_suite.zoo.dreamer.dreamer_v2 import _flatten

SMALL = dict(
    depth=2,
    deter_size=8,
    stoch_size=2,
    num_classes=3,
    hidden_size=8,
    mlp_units=8,
    mlp_layers=1,
    horizon=3,
    model_lr=3e-3,
    actor_lr=1e-3,
    critic_lr=2e-3,
    clip_grad=5.0,
    seed=0,
)


def _batch(actions, continuous, seed=0):
    rng = np.random.default_rng(seed)
    is_first = np.zeros((2, 4), "float32")
    is_first[:, 0] = 1
    if continuous:
        action = rng.uniform(-1, 1, (2, 4, actions)).astype("float32")
    else:
        action = np.eye(actions, dtype="float32")[rng.integers(0, actions, (2, 4))]
    return {
        "image": rng.integers(0, 255, (2, 4, 64, 64, 1)).astype("uint8"),
        "action": action,
        "reward": rng.normal(size=(2, 4)).astype("float32"),
        "is_first": is_first,
        "is_terminal": np.zeros((2, 4), "float32"),
    }


def _adam(variables, grads, lr, clip, eps=1e-5, beta_1=0.9, beta_2=0.999):
    """The first Adam step (Kingma & Ba, 2015, Algorithm 1; Keras's epsilon placement) after
    scaling the gradients to a global norm of at most `clip`, assigned to `variables`."""
    grads = [ops.convert_to_numpy(g).astype("float64") for g in grads]
    norm = np.sqrt(sum((g**2).sum() for g in grads))
    scale = min(1.0, clip / norm)
    alpha = lr * np.sqrt(1 - beta_2) / (1 - beta_1)
    for variable, g in zip(variables, grads):
        g = g * scale
        m, v = (1 - beta_1) * g, (1 - beta_2) * g**2
        new = ops.convert_to_numpy(variable).astype("float64") - alpha * m / (np.sqrt(v) + eps)
        variable.assign(new.astype("float32"))


def _seed_states(agent):
    return [ops.convert_to_numpy(v) for v in agent.non_trainable_variables]


def _restore_seed_states(agent, values):
    for v, value in zip(agent.non_trainable_variables, values):
        v.assign(value)


def _reference_update(agent, data):
    """The update written out phase by phase; returns the three losses."""
    wm, ac = agent.world_model, agent.actor_critic
    inputs = wm.preprocess(data)
    seeds = _seed_states(agent)
    model_loss, grads = value_and_grad(lambda: wm.compute_losses(inputs)[0], wm.trainable_variables)
    _restore_seed_states(agent, seeds)  # the same sampling noise again, for the posterior
    posterior = wm.compute_losses(inputs)[2]
    _adam(wm.trainable_variables, grads, agent.model_lr, agent.clip_grad)

    start = {k: ops.stop_gradient(_flatten(v)) for k, v in posterior.items()}
    start_discount = ops.reshape(inputs["discount"], (-1,))

    def imagined():
        features, actions = ac.imagine(wm.rssm, start)
        if ac.actor_grad == "reinforce":
            features, actions = ops.stop_gradient(features), ops.stop_gradient(actions)
        target, value, weight = ac.returns(
            features, wm.reward_head, wm.discount_head, start_discount
        )
        return features, actions, target, value, weight

    seeds = _seed_states(agent)
    actor_vars = ac.actor.trainable_variables
    actor_loss, grads = value_and_grad(lambda: ac.actor_loss(*imagined())[0], actor_vars)
    _restore_seed_states(agent, seeds)
    features, _, target, _, weight = imagined()  # the trajectories the critic learns on
    _adam(actor_vars, grads, agent.actor_lr, agent.clip_grad)

    critic_vars = ac.critic.trainable_variables
    critic_loss, grads = value_and_grad(
        lambda: ac.critic_loss(ops.stop_gradient(features), target, weight), critic_vars
    )
    _adam(critic_vars, grads, agent.critic_lr, agent.clip_grad)
    for t, c in zip(ac.target_critic.weights, ac.critic.weights):  # the first update copies
        t.assign(c)
    ac.updates.assign(1.0)
    return {"loss": model_loss, "actor_loss": actor_loss, "critic_loss": critic_loss}


@pytest.mark.parametrize("continuous", [False, True])
def test_update_matches_reference_written_out(continuous):
    keras.utils.set_random_seed(0)
    actions = 2 if continuous else 3
    agent = DreamerV2(num_actions=actions, continuous_actions=continuous, **SMALL)
    assert agent.actor_critic.actor_grad == ("dynamics" if continuous else "reinforce")
    agent.compile(run_eagerly=keras.config.backend() != "jax")
    data = _batch(actions, continuous)
    initial = [ops.convert_to_numpy(v) for v in agent.variables]
    expected = _reference_update(agent, data)
    reference = [ops.convert_to_numpy(v) for v in agent.variables]
    for v, value in zip(agent.variables, initial):
        v.assign(value)
    logs = agent.train_on_batch(data, return_dict=True)
    for key, value in expected.items():
        np.testing.assert_allclose(logs[key], ops.convert_to_numpy(value), rtol=1e-5, atol=1e-5)
    for v, want in zip(agent.variables, reference):
        np.testing.assert_allclose(
            ops.convert_to_numpy(v), want, rtol=1e-4, atol=2e-6, err_msg=v.path
        )
    # The update moved every trained part.
    before = {id(v): value for v, value in zip(agent.variables, initial)}
    for part in (agent.world_model, agent.actor_critic.actor, agent.actor_critic.critic):
        moved = [
            np.abs(ops.convert_to_numpy(v) - before[id(v)]).max() for v in part.trainable_variables
        ]
        assert max(moved) > 1e-4, part.name


def test_value_and_grad_closed_form():
    w = keras.Variable(np.array([1.0, -2.0, 3.0], "float32"))
    other = keras.Variable(np.ones(2, "float32"))
    x = np.array([0.5, 2.0, -1.0], "float32")
    value, (grad, unused) = value_and_grad(
        lambda: ops.sum(w**2 * ops.convert_to_tensor(x)), [w, other]
    )
    np.testing.assert_allclose(ops.convert_to_numpy(value), np.sum(x * [1.0, 4.0, 9.0]))
    np.testing.assert_allclose(ops.convert_to_numpy(grad), 2 * np.array([1.0, -2.0, 3.0]) * x)
    np.testing.assert_array_equal(ops.convert_to_numpy(unused), np.zeros(2))

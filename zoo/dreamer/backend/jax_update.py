"""DreamerV2's updates on JAX: pure functions of the variables' values, compiled with `jax.jit`.

As in keras core's JAX trainer, the model code runs in a `keras.StatelessScope` that maps every
variable to a value, `jax.value_and_grad` differentiates with respect to the values, and the
optimizers' `stateless_apply` returns the new values instead of assigning them. Keras's JAX
trainer carries the model's variables and the variables of `model.optimizer` from step to
step; DreamerV2 has two more optimizers, whose variables the step reads and writes itself, so
it runs outside Keras's `jax.jit` (its own pure update is compiled instead).
"""

import jax
import keras
from keras import ops


class _State:
    """The values of a fixed list of variables, read and replaced by variable."""

    def __init__(self, variables, values):
        self.variables = list(variables)
        self.values = list(values)
        self._index = {id(v): i for i, v in enumerate(self.variables)}

    def get(self, variables):
        return [self.values[self._index[id(v)]] for v in variables]

    def set(self, variables, values):
        for v, value in zip(variables, values):
            self.values[self._index[id(v)]] = value

    def run(self, fn):
        """`fn()` in a stateless scope; keeps the values it assigns (seed generators,
        counters, the target critic)."""
        out, assigned = self._call(fn)
        self._keep(assigned)
        return out

    def value_and_grad(self, fn, variables):
        """The value of `fn() -> (loss, aux)`, its aux, and the gradients with respect to
        `variables`; keeps the values that `fn` assigns to other variables."""

        def loss_fn(values):
            (loss, aux), assigned = self._call(fn, dict(zip(map(id, variables), values)))
            return loss, (aux, assigned)

        (loss, (aux, assigned)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            self.get(variables)
        )
        self._keep(assigned, skip=variables)
        return loss, aux, grads

    def apply(self, optimizer, grads, variables):
        new_values, new_optimizer_values = optimizer.stateless_apply(
            self.get(optimizer.variables), grads, self.get(variables)
        )
        self.set(variables, new_values)
        self.set(optimizer.variables, new_optimizer_values)

    def _call(self, fn, overrides=None):
        overrides = overrides or {}
        mapping = [(v, overrides.get(id(v), x)) for v, x in zip(self.variables, self.values)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            out = fn()
        return out, [scope.get_current_value(v) for v in self.variables]

    def _keep(self, assigned, skip=()):
        skipped = {id(v) for v in skip}
        for i, (v, value) in enumerate(zip(self.variables, assigned)):
            if id(v) not in skipped:
                self.values[i] = value


def _agent_variables(agent):
    return (
        list(agent.trainable_variables)
        + list(agent.non_trainable_variables)
        + list(agent.model_optimizer.variables)
        + list(agent.actor_optimizer.variables)
        + list(agent.critic_optimizer.variables)
    )


def _update(agent, values, data):
    """The pure DreamerV2 update: new values of `_agent_variables(agent)` and the logs."""
    state = _State(_agent_variables(agent), values)
    wm, ac = agent.world_model, agent.actor_critic
    inputs = wm.preprocess(data)

    def model_loss():
        loss, metrics, posterior = wm.compute_losses(inputs)
        return loss, (metrics, posterior)

    variables = wm.trainable_variables
    loss, (metrics, posterior), grads = state.value_and_grad(model_loss, variables)
    state.apply(agent.model_optimizer, grads, variables)

    start, start_discount = agent._imagination_start(posterior, inputs)

    def actor_loss():
        features, actions = ac.imagine(wm.rssm, start)
        if ac.actor_grad == "reinforce":  # no gradient through the imagined dynamics
            features, actions = ops.stop_gradient(features), ops.stop_gradient(actions)
        target, value, weight = ac.returns(
            features, wm.reward_head, wm.discount_head, start_discount
        )
        loss, entropy = ac.actor_loss(features, actions, target, value, weight)
        return loss, (features, target, weight, entropy)

    variables = ac.actor.trainable_variables
    actor_loss_value, (features, target, weight, entropy), grads = state.value_and_grad(
        actor_loss, variables
    )
    state.apply(agent.actor_optimizer, grads, variables)

    variables = ac.critic.trainable_variables
    critic_loss_value, _, grads = state.value_and_grad(
        lambda: (ac.critic_loss(features, target, weight), ()), variables
    )
    state.apply(agent.critic_optimizer, grads, variables)
    state.run(ac.update_target)
    logs = dict(
        metrics,
        loss=loss,
        actor_loss=actor_loss_value,
        critic_loss=critic_loss_value,
        actor_entropy=entropy,
        imagined_return=ops.mean(target[0]),
    )
    return logs, state.values


def train_step(agent, state, data):
    """Keras's JAX `train_step`: `state` holds the values of the model's trainable and
    non-trainable variables, of `agent.optimizer` (the world model's) and of the metrics."""
    if isinstance(data, tuple):  # `train_on_batch(x)` passes (x, None, None)
        data = data[0]
    trainable, non_trainable, model_optimizer, metrics = state
    others = list(agent.actor_optimizer.variables) + list(agent.critic_optimizer.variables)
    values = (
        list(trainable) + list(non_trainable) + list(model_optimizer) + [v.value for v in others]
    )
    update = agent._backend_functions.get("update")
    if update is None:
        update = lambda v, d: _update(agent, v, d)  # noqa: E731
        if not agent.run_eagerly:
            update = jax.jit(update)
        agent._backend_functions["update"] = update
    logs, values = update(values, data)
    sizes = [len(trainable), len(non_trainable), len(model_optimizer)]
    parts, start = [], 0
    for size in sizes:
        parts.append(values[start : start + size])
        start += size
    for v, value in zip(others, values[start:]):
        v.assign(value)
    return logs, (parts[0], parts[1], parts[2], metrics)


def world_model_train_step(model, state, data):
    """Keras's JAX `train_step` for a `WorldModel`: pure, so Keras may `jax.jit` it."""
    if isinstance(data, tuple):
        data = data[0]
    trainable, non_trainable, optimizer_values, metrics = state
    variables = (
        list(model.trainable_variables)
        + list(model.non_trainable_variables)
        + list(model.optimizer.variables)
    )
    values = _State(variables, list(trainable) + list(non_trainable) + list(optimizer_values))
    inputs = model.preprocess(data)

    def loss_fn():
        loss, metrics_values, _ = model.compute_losses(inputs)
        return loss, metrics_values

    loss, logs, grads = values.value_and_grad(loss_fn, model.trainable_variables)
    values.apply(model.optimizer, grads, model.trainable_variables)
    return dict(logs, loss=loss), (
        values.get(model.trainable_variables),
        values.get(model.non_trainable_variables),
        values.get(model.optimizer.variables),
        metrics,
    )


def policy_function(agent, training):
    variables = list(agent.variables)
    assigned = list(agent.non_trainable_variables)

    def policy(values, observations, is_first, state):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
            action, state = agent._policy_step(observations, is_first, state, training)
        return action, state, [scope.get_current_value(v) for v in assigned]

    compiled = jax.jit(policy)

    def call(observations, is_first, state):
        action, state, new_values = compiled(
            [v.value for v in variables], observations, is_first, state
        )
        for v, value in zip(assigned, new_values):
            v.assign(value)
        return action, state

    return call


def value_and_grad(fn, variables):
    def loss_fn(values):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn()

    value, grads = jax.value_and_grad(loss_fn)([v.value for v in variables])
    return value, list(grads)

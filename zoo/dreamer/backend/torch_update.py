"""DreamerV2's updates on PyTorch: `torch.autograd.grad`, the optimizers applied without autograd.

Each of the three losses is differentiated with `torch.autograd.grad` with respect to its own
variables only, so no gradient is accumulated in the other parts' `.grad` and none needs
zeroing (the Keras guide's `zero_grad()` and `loss.backward()` would do the same for one
optimizer).
"""

import contextlib

import torch
from keras import ops


def _apply(optimizer, grads, variables):
    with torch.no_grad():
        optimizer.apply(grads, variables)


def train_step(agent, data):
    if isinstance(data, tuple):  # `train_on_batch(x)` passes (x, None, None)
        data = data[0]
    wm, ac = agent.world_model, agent.actor_critic
    inputs = wm.preprocess(data)
    outputs = {}

    def model_loss():
        loss, outputs["metrics"], outputs["posterior"] = wm.compute_losses(inputs)
        return loss

    loss, grads = value_and_grad(model_loss, wm.trainable_variables)
    _apply(agent.model_optimizer, grads, wm.trainable_variables)

    start, start_discount = agent._imagination_start(outputs["posterior"], inputs)

    def actor_loss():
        # REINFORCE needs no gradient through the imagined dynamics: they run without autograd.
        reinforce = ac.actor_grad == "reinforce"
        with torch.no_grad() if reinforce else contextlib.nullcontext():
            features, actions = ac.imagine(wm.rssm, start)
        target, value, weight = ac.returns(
            features, wm.reward_head, wm.discount_head, start_discount
        )
        loss, outputs["entropy"] = ac.actor_loss(features, actions, target, value, weight)
        outputs.update(features=features, target=target, weight=weight)
        return loss

    actor_vars = ac.actor.trainable_variables
    actor_loss_value, grads = value_and_grad(actor_loss, actor_vars)
    _apply(agent.actor_optimizer, grads, actor_vars)

    critic_vars = ac.critic.trainable_variables
    critic_loss_value, grads = value_and_grad(
        lambda: ac.critic_loss(outputs["features"], outputs["target"], outputs["weight"]),
        critic_vars,
    )
    _apply(agent.critic_optimizer, grads, critic_vars)
    with torch.no_grad():
        ac.update_target()
    return _detach(
        dict(
            outputs["metrics"],
            loss=loss,
            actor_loss=actor_loss_value,
            critic_loss=critic_loss_value,
            actor_entropy=outputs["entropy"],
            imagined_return=ops.mean(outputs["target"][0]),
        )
    )


def world_model_train_step(model, data):
    if isinstance(data, tuple):
        data = data[0]
    inputs = model.preprocess(data)
    outputs = {}

    def loss_fn():
        loss, outputs["metrics"], _ = model.compute_losses(inputs)
        return loss

    loss, grads = value_and_grad(loss_fn, model.trainable_variables)
    _apply(model.optimizer, grads, model.trainable_variables)
    return _detach(dict(outputs["metrics"], loss=loss))


def policy_function(agent, training):
    def policy(observations, is_first, state):
        with torch.no_grad():
            return agent._policy_step(observations, is_first, state, training)

    return policy


def value_and_grad(fn, variables):
    value = fn()
    tensors = [v.value for v in variables]
    grads = torch.autograd.grad(value, tensors, allow_unused=True)
    grads = [torch.zeros_like(t) if g is None else g for g, t in zip(grads, tensors)]
    return value.detach(), grads


def _detach(logs):
    return {k: v.detach() if isinstance(v, torch.Tensor) else v for k, v in logs.items()}

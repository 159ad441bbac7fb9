"""DreamerV2's updates on TensorFlow: `tf.GradientTape`, the graph made by `tf.function`."""

import tensorflow as tf
from keras import ops


def train_step(agent, data):
    if isinstance(data, tuple):  # `train_on_batch(x)` passes (x, None, None)
        data = data[0]
    wm, ac = agent.world_model, agent.actor_critic
    inputs = wm.preprocess(data)
    with tf.GradientTape() as tape:
        model_loss, metrics, posterior = wm.compute_losses(inputs)
    variables = wm.trainable_variables
    grads = tape.gradient(model_loss, variables)
    agent.model_optimizer.apply_gradients(zip(grads, variables))

    start, start_discount = agent._imagination_start(posterior, inputs)
    actor_vars = ac.actor.trainable_variables
    with tf.GradientTape() as actor_tape:
        if ac.actor_grad == "reinforce":
            with actor_tape.stop_recording():
                features, actions = ac.imagine(wm.rssm, start)
        else:
            features, actions = ac.imagine(wm.rssm, start)
        target, value, weight = ac.returns(
            features, wm.reward_head, wm.discount_head, start_discount
        )
        actor_loss, entropy = ac.actor_loss(features, actions, target, value, weight)
    grads = actor_tape.gradient(actor_loss, actor_vars)
    agent.actor_optimizer.apply_gradients(zip(grads, actor_vars))

    critic_vars = ac.critic.trainable_variables
    with tf.GradientTape() as critic_tape:
        critic_loss = ac.critic_loss(features, target, weight)
    grads = critic_tape.gradient(critic_loss, critic_vars)
    agent.critic_optimizer.apply_gradients(zip(grads, critic_vars))
    ac.update_target()
    return dict(
        metrics,
        loss=model_loss,
        actor_loss=actor_loss,
        critic_loss=critic_loss,
        actor_entropy=entropy,
        imagined_return=ops.mean(target[0]),
    )


def world_model_train_step(model, data):
    if isinstance(data, tuple):
        data = data[0]
    inputs = model.preprocess(data)
    with tf.GradientTape() as tape:
        loss, metrics, _ = model.compute_losses(inputs)
    grads = tape.gradient(loss, model.trainable_variables)
    model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return dict(metrics, loss=loss)


def policy_function(agent, training):
    return tf.function(lambda o, f, s: agent._policy_step(o, f, s, training), reduce_retracing=True)


def value_and_grad(fn, variables):
    with tf.GradientTape() as tape:
        value = fn()
    # The underlying `tf.Variable`s: TensorFlow makes the zeros of unconnected gradients from
    # their dtype, which a Keras variable holds as a string.
    sources = [v.value for v in variables]
    grads = tape.gradient(value, sources, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return value, grads

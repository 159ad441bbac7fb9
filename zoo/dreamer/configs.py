"""DreamerV2 hyper-parameters: the paper's Atari and DMC values, and small CPU configs.

Each config has two parts: `model` (arguments of `DreamerV2`) and `loop` (arguments of
`keras_suite.zoo.dreamer.train`). Values for `atari` and `dmc` follow the DreamerV2 paper
(Hafner et al., 2021, Appendix) and its released configs.
"""

import copy

_MODEL_ATARI = dict(
    depth=48,
    deter_size=600,
    stoch_size=32,
    num_classes=32,
    hidden_size=600,
    mlp_units=400,
    mlp_layers=4,
    kl_scale=0.1,
    kl_balance=0.8,
    free_nats=0.0,
    discount_scale=5.0,
    discount=0.999,
    lambda_=0.95,
    horizon=15,
    actor_entropy=1e-3,
    actor_grad="reinforce",
    target_update_every=100,
    model_lr=2e-4,
    actor_lr=4e-5,
    critic_lr=1e-4,
    clip_grad=100.0,
    reward_transform="tanh",
)
_LOOP_ATARI = dict(
    batch_size=16,
    seq_len=50,
    train_every=16,
    train_steps=1,
    prefill=50000,
    replay_capacity=2_000_000,
    eval_every=100_000,
    eval_episodes=1,
    log_every=10_000,
    checkpoint_every=100_000,
)

CONFIGS = {
    "atari": {"model": _MODEL_ATARI, "loop": _LOOP_ATARI},
    "dmc": {
        "model": dict(
            _MODEL_ATARI,
            deter_size=200,
            hidden_size=200,
            kl_scale=1.0,
            free_nats=1.0,
            discount_scale=1.0,
            discount=0.99,
            actor_entropy=1e-4,
            actor_grad="dynamics",
            model_lr=3e-4,
            actor_lr=8e-5,
            critic_lr=8e-5,
            reward_transform="identity",
        ),
        "loop": dict(_LOOP_ATARI, train_every=5, prefill=1000, eval_every=10_000),
    },
    "small": {
        "model": dict(
            _MODEL_ATARI, depth=16, deter_size=200, hidden_size=200, mlp_units=200, mlp_layers=2
        ),
        "loop": dict(_LOOP_ATARI, prefill=5000, eval_every=10_000, checkpoint_every=10_000),
    },
    "tiny": {
        "model": dict(
            _MODEL_ATARI,
            depth=8,
            deter_size=64,
            stoch_size=8,
            num_classes=8,
            hidden_size=64,
            mlp_units=64,
            mlp_layers=2,
            model_lr=1e-3,
            actor_lr=3e-4,
            critic_lr=3e-4,
            discount=0.99,
            target_update_every=50,
        ),
        "loop": dict(
            _LOOP_ATARI,
            batch_size=8,
            seq_len=16,
            train_every=8,
            prefill=500,
            eval_every=2000,
            log_every=500,
            checkpoint_every=2000,
        ),
    },
}


def get_config(name):
    """A deep copy of the config `name` (`"atari"`, `"dmc"`, `"small"` or `"tiny"`)."""
    if name not in CONFIGS:
        raise ValueError(
            f"Unknown DreamerV2 config: expected one of {sorted(CONFIGS)}. Received: name={name!r}"
        )
    return copy.deepcopy(CONFIGS[name])

"""DreamerV2 hyper-parameters: the paper's Atari and DMC values, small CPU configs, MinAtar.

Each config has two parts: `model` (arguments of `DreamerV2`) and `loop` (arguments of
`keras_suite.zoo.dreamer.train`). Values for `atari` and `dmc` follow the DreamerV2 paper
(Hafner et al., 2021, Appendix) and its released configs. `minatar` is sized for MinAtar's
10x10 binary grids (Young & Tian, 2019) on a few CPU cores; its sources are named beside it.
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
    # No random actions: DreamerV2 explores by sampling its actor (`Trainer`'s `explore`).
    explore=0.0,
    explore_min=0.0,
    explore_half_life=100_000,
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


# MinAtar: the values that two DreamerV2 implementations tuned on MinAtar agree on, namely
# kenjyoung/dreamerv2_JAX (`config.json`, by MinAtar's first author) and RajGhugare19/dreamerv2
# (`MinAtarConfig`): 200-unit RSSM, imagination horizon 10, discount 0.99, Adam learning rates
# 2e-4 / 4e-5 / 1e-4, target critic every 100 updates; Bernoulli observations and 5,000 random
# steps before training are kenjyoung's. For a 2-core CPU (about 0.25 s per update): the batch
# is DreamerV2's 16 x 50 (both use 50 x 50), the latent 16 categoricals of 16 classes (the
# MiniGrid config of RajGhugare19/dreamerv2 uses this size; kenjyoung's 32 x 32 doubles the
# update time), and every MLP (heads, grid encoder and decoder) has 2 layers of 128 units,
# between RajGhugare19's 3 x 100 and kenjyoung's 3 x 200. MinAtar's rewards are small integers
# (mostly 1 per hit), so they are modelled as they are. `depth` is unused: 10x10 grids take
# the MLP encoder.
_MODEL_MINATAR = dict(
    _MODEL_ATARI,
    deter_size=200,
    stoch_size=16,
    num_classes=16,
    hidden_size=200,
    mlp_units=128,
    mlp_layers=2,
    discount=0.99,
    horizon=10,
    reward_transform="identity",
    image_dist="bernoulli",
)
# One update every 4 frames: 200 replayed steps per frame, near kenjyoung's 250 (50 x 50 every
# 10 steps); all of a 1M-frame run fits the replay. Epsilon-greedy exploration from 0.4 down to
# 0.05, the values of RajGhugare19/dreamerv2's `MinAtarConfig`, halved every 20,000 frames (our
# choice): with the actor alone, its entropy fell from 0.97 to 0.01 nats within 19,000 frames
# of Breakout and the returns stayed at a random policy's.
_LOOP_MINATAR = dict(
    _LOOP_ATARI,
    explore=0.4,
    explore_min=0.05,
    explore_half_life=20_000,
    train_every=4,
    prefill=5000,
    replay_capacity=1_000_000,
    eval_every=50_000,
    eval_episodes=10,
    log_every=1000,
    checkpoint_every=25_000,
)
CONFIGS["minatar"] = {"model": _MODEL_MINATAR, "loop": _LOOP_MINATAR}


def get_config(name):
    """A deep copy of the config `name` (`"atari"`, `"dmc"`, `"small"`, `"tiny"` or
    `"minatar"`)."""
    if name not in CONFIGS:
        raise ValueError(
            f"Unknown DreamerV2 config: expected one of {sorted(CONFIGS)}. Received: name={name!r}"
        )
    return copy.deepcopy(CONFIGS[name])

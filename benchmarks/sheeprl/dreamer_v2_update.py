"""Times sheeprl's PyTorch DreamerV2 update at the sizes of a keras-suite config (peer run).

Run by `benchmarks/dreamer.py --peer-python PATH` with an interpreter that has sheeprl 0.8.4
(never a keras-suite dependency), as

    PATH/bin/python benchmarks/sheeprl/dreamer_v2_update.py '<sizes as JSON>' STEPS

It builds sheeprl's DreamerV2 agent (`sheeprl.algos.dreamer_v2.agent.build_agent`) from its own
`exp=dreamer_v2` Hydra config with the sizes given (CNN depth, GRU size, stochastic state
classes x size, hidden and MLP widths, imagination horizon, batch x sequence length), on one CPU
process (Lightning Fabric), and times its `dreamer_v2.train` (world model, actor and critic
updates) on random Atari-shaped data (64x64 grey frames, 6 actions). Prints one JSON line with
the first call, the median seconds per update and the median process CPU-seconds per update.
"""

import json
import sys
import time

import gymnasium
import numpy as np
import torch
from hydra import compose, initialize_config_module
from lightning.fabric import Fabric
from omegaconf import OmegaConf
from sheeprl.algos.dreamer_v2.agent import build_agent
from sheeprl.algos.dreamer_v2.dreamer_v2 import train
from sheeprl.algos.dreamer_v2.utils import build_optimizer
from sheeprl.utils.utils import dotdict


def sheeprl_config(sizes):
    # The names of sheeprl's `algo/dreamer_v2.yaml` options.
    overrides = [
        "exp=dreamer_v2",
        "env=dummy",
        "algo.cnn_keys.encoder=[rgb]",
        "algo.mlp_keys.encoder=[]",
        f"algo.per_rank_batch_size={sizes['batch']}",
        f"algo.per_rank_sequence_length={sizes['seq_len']}",
        f"algo.horizon={sizes['horizon']}",
        f"algo.dense_units={sizes['mlp_units']}",
        f"algo.mlp_layers={sizes['mlp_layers']}",
        f"algo.world_model.encoder.cnn_channels_multiplier={sizes['depth']}",
        f"algo.world_model.recurrent_model.recurrent_state_size={sizes['deter_size']}",
        f"algo.world_model.transition_model.hidden_size={sizes['hidden_size']}",
        f"algo.world_model.representation_model.hidden_size={sizes['hidden_size']}",
        f"algo.world_model.stochastic_size={sizes['stoch_size']}",
        f"algo.world_model.discrete_size={sizes['num_classes']}",
        "metric.log_level=0",
        "fabric.accelerator=cpu",
    ]
    with initialize_config_module(config_module="sheeprl.configs", version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
    return dotdict(OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False))


def random_batch(sizes, actions, seed=0):
    rng = np.random.default_rng(seed)
    steps, batch = sizes["seq_len"], sizes["batch"]
    one_hot = np.eye(actions, dtype="float32")[rng.integers(0, actions, (steps, batch))]
    zeros = np.zeros((steps, batch, 1), "float32")
    data = {
        "rgb": rng.integers(0, 255, (steps, batch, 1, 64, 64)).astype("float32"),
        "actions": one_hot,
        "rewards": rng.normal(size=(steps, batch, 1)).astype("float32"),
        "terminated": zeros,
        "truncated": zeros,
        "is_first": zeros.copy(),
    }
    return {k: torch.from_numpy(v) for k, v in data.items()}


def main():
    sizes, steps = json.loads(sys.argv[1]), int(sys.argv[2])
    actions = 6
    cfg = sheeprl_config(sizes)
    fabric = Fabric(devices=1, accelerator="cpu", precision="32-true")
    obs_space = gymnasium.spaces.Dict({"rgb": gymnasium.spaces.Box(0, 255, (1, 64, 64), np.uint8)})
    world_model, actor, critic, target_critic, _ = build_agent(
        fabric, (actions,), False, cfg, obs_space
    )
    optimizers = fabric.setup_optimizers(
        build_optimizer(cfg.algo.world_model.optimizer, world_model.parameters()),
        build_optimizer(cfg.algo.actor.optimizer, actor.parameters()),
        build_optimizer(cfg.algo.critic.optimizer, critic.parameters()),
    )
    data = random_batch(sizes, actions)

    def update():
        batch = {k: v.clone() for k, v in data.items()}
        train(
            fabric,
            world_model,
            actor,
            critic,
            target_critic,
            *optimizers,
            batch,
            None,
            cfg,
            (actions,),
        )

    start = time.perf_counter()
    update()
    first = time.perf_counter() - start
    walls, cpus = [], []
    for _ in range(steps):
        start, cpu = time.perf_counter(), time.process_time()
        update()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    print(
        json.dumps(
            {
                "first": first,
                "wall": float(np.median(walls)),
                "cpu": float(np.median(cpus)),
                "threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()

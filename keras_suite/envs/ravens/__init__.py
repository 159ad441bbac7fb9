"""Ravens: ten simulated tabletop rearrangement tasks, their oracle and demonstrations.

Importing this module is light (no simulator); `make` loads pybullet on first use.

```python
from keras_suite.envs import ravens

env = ravens.make("block-insertion")
agent = ravens.OracleAgent(env)
obs, info = env.reset(seed=1)
obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
```
"""

import importlib

#: Names of the tasks, sorted.
TASKS = (
    "align-box-corner",
    "assembling-kits",
    "block-insertion",
    "manipulating-rope",
    "packing-boxes",
    "palletizing-boxes",
    "place-red-in-green",
    "stack-block-pyramid",
    "sweeping-piles",
    "towers-of-hanoi",
)

_LAZY = {
    "RavensEnv": "keras_suite.envs.ravens.environment",
    "OracleAgent": "keras_suite.envs.ravens.oracle_agent",
    "collect_demonstrations": "keras_suite.envs.ravens.demonstrations",
    "evaluate_oracle": "keras_suite.envs.ravens.oracle_evaluation",
}


def make(task, max_steps=None, **kwargs):
    """Makes the Ravens environment of one task.

    Args:
        task: a name from `TASKS`, e.g. `"block-insertion"`.
        max_steps: overrides the task's step limit (Ravens' own by default).
        **kwargs: passed to `RavensEnv`.

    Returns:
        A `RavensEnv` (a gymnasium environment).
    """
    if task not in TASKS:
        raise ValueError(
            f"Unknown Ravens task. Valid names: {', '.join(TASKS)}. Received: task={task!r}"
        )
    from keras_suite.envs.ravens.environment import RavensEnv
    from keras_suite.envs.ravens.tasks import TASK_CLASSES

    return RavensEnv(TASK_CLASSES[task](), max_steps=max_steps, **kwargs)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])

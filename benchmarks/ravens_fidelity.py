"""How our Ravens scenes look next to the original Ravens', class by class, in the fused maps.

Resets the original Ravens (google-research/ravens) and ours on the same seeds, fuses each
one's three RealSense views into the 320 x 160 top-down colour and height maps with the same
camera configurations (`keras_suite.envs.ravens.cameras`), and prints per object class the
statistics of `appearance_statistics` side by side: footprint in pixels, mean colour and height.
With `--write DIR` it writes the ORIGINAL's statistics, averaged over the seeds, as the reference
JSONs that `tests/envs/ravens/fidelity_test.py` checks our scenes against.

The original is not a dependency: it is imported at run time from a checkout you extract, e.g.

    git clone https://github.com/google-research/ravens /tmp/ravens   (or `git archive` a copy)
    .venv/bin/python benchmarks/ravens_fidelity.py --original /tmp/ravens \
        [--tasks block-insertion ...] [--seeds 1 3 5] [--write tests/envs/ravens/fidelity]

Only its environment and task modules run (pybullet and numpy); its TensorFlow agents are not
imported, and the few helper packages its utilities import but these scenes never use (gym,
meshcat, transforms3d) are stood in for. Its renderer in a headless (DIRECT) client is
pybullet's TinyRenderer, as ours.
"""

import argparse
import importlib
import json
import os
import sys
import types

import numpy as np

from keras_suite.envs import ravens
from keras_suite.envs.ravens import cameras
from keras_suite.envs.ravens.appearance import appearance_statistics
from keras_suite.envs.ravens.environment import RavensEnv
from keras_suite.envs.ravens.tasks import Task

#: The tasks measured by default; "workspace" is the empty table with the arm at home.
TASKS = (
    "workspace",
    "block-insertion",
    "place-red-in-green",
    "towers-of-hanoi",
    "align-box-corner",
)
SEEDS = (1, 3, 5)


def _stand_ins():
    """Modules the original's utilities import at the top but these scenes never call."""
    import gymnasium
    from scipy.spatial.transform import Rotation

    def euler2quat(ai, aj, ak, axes="szxy"):
        # transforms3d's static ("s") axes are scipy's lowercase (extrinsic) sequence.
        x, y, z, w = Rotation.from_euler(axes[1:], [ai, aj, ak]).as_quat()
        return np.array([w, x, y, z])

    def quat2euler(quaternion, axes="szxy"):
        w, x, y, z = quaternion
        return Rotation.from_quat([x, y, z, w]).as_euler(axes[1:])

    def euler2mat(ai, aj, ak, axes="szxy"):
        return Rotation.from_euler(axes[1:], [ai, aj, ak]).as_matrix()

    euler = types.ModuleType("transforms3d.euler")
    euler.euler2quat, euler.quat2euler, euler.euler2mat = euler2quat, quat2euler, euler2mat
    transforms3d = types.ModuleType("transforms3d")
    transforms3d.euler = euler
    meshcat = types.ModuleType("meshcat")
    meshcat.geometry = types.ModuleType("meshcat.geometry")
    meshcat.transformations = types.ModuleType("meshcat.transformations")
    return {
        "gym": gymnasium,
        "gym.spaces": gymnasium.spaces,
        "transforms3d": transforms3d,
        "transforms3d.euler": euler,
        "meshcat": meshcat,
        "meshcat.geometry": meshcat.geometry,
        "meshcat.transformations": meshcat.transformations,
    }


def load_original(path):
    """Imports the original's environment and tasks from the checkout at `path`.

    Returns:
        `(Environment class, {task name: task class}, assets folder)`.
    """
    package = os.path.join(path, "ravens")
    if not os.path.isfile(os.path.join(package, "environments", "environment.py")):
        raise ValueError(
            "`--original` must be a checkout of google-research/ravens (holding "
            f"ravens/environments/environment.py). Received: {path!r}"
        )
    for name, module in _stand_ins().items():
        sys.modules.setdefault(name, module)
    # The package without its __init__, which would import the TensorFlow agents.
    root = types.ModuleType("ravens")
    root.__path__ = [package]
    sys.modules["ravens"] = root
    environment = importlib.import_module("ravens.environments.environment")
    tasks = importlib.import_module("ravens.tasks")
    return environment.Environment, tasks.names, os.path.join(package, "environments", "assets")


def original_classes(env, task_name):
    """The original's body ids per object class, named as our tasks' `object_classes`."""
    fixed, rigid = env.obj_ids["fixed"], env.obj_ids["rigid"]
    goal_objects = [body for goal in env.task.goals for body, _ in goal[0]]
    if task_name == "workspace":
        return {}
    if task_name == "block-insertion":
        return {"block": rigid, "fixture": fixed}
    if task_name == "align-box-corner":
        return {"box": rigid, "corner": fixed}
    if task_name == "towers-of-hanoi":
        # Disks were added smallest first; the goals list each disk as it moves.
        disks = sorted(set(goal_objects))
        return {
            "stand": fixed,
            "disk_small": disks[:1],
            "disk_medium": disks[1:2],
            "disk_large": disks[2:3],
        }
    if task_name == "place-red-in-green":
        blocks = sorted(set(goal_objects))
        distractors = [b for b in rigid if b not in blocks]
        block_distractors, bowl_distractors = [], []
        for body in distractors:  # bowls are 12 cm wide, blocks 4 cm
            low, high = _aabb(body)
            (bowl_distractors if high[0] - low[0] > 0.08 else block_distractors).append(body)
        return {
            "bowl": fixed,
            "block": blocks,
            "distractor_block": block_distractors,
            "distractor_bowl": bowl_distractors,
        }
    if task_name == "assembling-kits":
        return {"kit": fixed[:1], "silhouette": fixed[1:], "piece": rigid}
    own = {
        "stack-block-pyramid": ("stand", "block"),
        "palletizing-boxes": ("pallet", "box"),
        "packing-boxes": ("container", "box"),
        "manipulating-rope": ("square", "rope"),
        "sweeping-piles": ("zone", "pile"),
    }
    if task_name in own:
        fixed_name, rigid_name = own[task_name]
        return {fixed_name: fixed, rigid_name: rigid}
    raise ValueError(f"No class map for the original's task {task_name!r}.")


def _aabb(body):
    import pybullet

    return np.array(pybullet.getAABB(body))


def fused(images):
    """Fuses `(color, depth, segm)` views of Ravens' three cameras into our top-down maps."""
    return cameras.fuse_heightmaps(images, cameras.DEFAULT_CAMERAS)


def original_maps(env, camera_configs):
    """The original's three views of its current scene, fused."""
    images = []
    for config in camera_configs:
        color, depth, segm = env.render_camera(config)
        # Its masks are uint8 body ids, 255 where nothing was hit.
        segm = np.where(segm == 255, -1, segm.astype(np.int32))
        images.append((color, depth.astype(np.float32), segm))
    return fused(images)


def our_maps(env, seed):
    observation, _ = env.reset(seed=seed)
    return observation["colormap"], observation["heightmap"], env.segmentation


def average(stats_list):
    """Per-class averages of `appearance_statistics` outputs over seeds (classes seen in any)."""
    names = sorted({name for stats in stats_list for name in stats})
    averaged = {}
    for name in names:
        seen = [stats[name] for stats in stats_list if name in stats]
        averaged[name] = {
            "footprint_pixels": float(np.mean([s["footprint_pixels"] for s in seen])),
            "color_mean": np.mean([s["color_mean"] for s in seen], axis=0).tolist(),
            "color_histogram": np.mean([s["color_histogram"] for s in seen], axis=0).tolist(),
            "height_max": float(np.mean([s["height_max"] for s in seen])),
        }
    return averaged


def measure_original(path, task_names, seeds):
    """`{task: [stats per seed]}` of the original, plus its empty workspace under "background"."""
    environment_class, task_classes, assets = load_original(path)
    env = environment_class(assets, disp=False)
    results = {}
    for name in task_names:
        per_seed = []
        for seed in seeds:
            np.random.seed(seed)
            task = _empty_task(task_classes) if name == "workspace" else task_classes[name]()
            task.mode = "test" if seed % 2 else "train"
            env.set_task(task)
            env.seed(seed)
            env.reset()
            maps = original_maps(env, env.agent_cams)
            per_seed.append(appearance_statistics(*maps, original_classes(env, name)))
        results[name] = per_seed
    return results


def _empty_task(task_classes):
    """An original task that adds nothing to the scene (the base class's reset only)."""
    base = task_classes["block-insertion"]
    parent = base.__mro__[1]
    return type("Workspace", (base,), {"reset": lambda self, env: parent.reset(self, env)})()


class EmptyWorkspace(Task):
    """Our empty scene: the table and the arm at home."""

    name = "workspace"

    def build(self, env, rng):
        del env, rng


def make_env(name):
    """Our environment of a task name of `TASKS` (or any Ravens task)."""
    if name == "workspace":
        return RavensEnv(EmptyWorkspace())
    return ravens.make(name)


def measure_ours(task_names, seeds):
    results = {}
    for name in task_names:
        env = make_env(name)
        per_seed = []
        for seed in seeds:
            maps = our_maps(env, seed)
            per_seed.append(appearance_statistics(*maps, env.task.object_classes))
        env.close()
        results[name] = per_seed
    return results


def _line(name, stats):
    if stats is None:
        return f"  {name:18s} {'-':>8s}"
    color = " ".join(f"{c:5.1f}" for c in stats["color_mean"])
    return (
        f"  {name:18s} {stats['footprint_pixels']:8.0f} px  rgb {color}  "
        f"h_max {1000 * stats['height_max']:5.1f} mm"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--original", required=True, help="an extracted google-research/ravens")
    parser.add_argument(
        "--tasks", nargs="+", default=list(TASKS), choices=("workspace", *ravens.TASKS)
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--write", help="folder for the reference JSONs (the original's values)")
    parser.add_argument(
        "--revision", help="the checkout's commit, for the JSONs' source (default: its .git)"
    )
    args = parser.parse_args(argv)
    commit = args.revision or _commit(args.original)
    # The original drives pybullet's default client, so it connects before ours do.
    original = measure_original(args.original, args.tasks, args.seeds)
    ours = measure_ours(args.tasks, args.seeds)
    for name in args.tasks:
        reference, mine = average(original[name]), average(ours[name])
        print(f"{name} (seeds {args.seeds}): original / ours")
        for cls in sorted(set(reference) | set(mine)):
            print(_line(cls, reference.get(cls)))
            print(_line("", mine.get(cls)))
        if args.write:
            os.makedirs(args.write, exist_ok=True)
            path = os.path.join(args.write, f"{name}.json")
            record = {
                "task": name,
                "source": (
                    f"original Ravens (google-research/ravens at {commit}), scene after "
                    "Environment.reset() with np.random.seed(seed), its three RealSenseD415 "
                    "views (TinyRenderer, shadow=1) fused by keras_suite.envs.ravens.cameras; "
                    "measured by benchmarks/ravens_fidelity.py"
                ),
                "seeds": list(args.seeds),
                "classes": reference,
            }
            with open(path, "w") as f:
                json.dump(record, f, indent=1)
            print(f"  wrote {path}")


def _commit(path):
    head = os.path.join(path, ".git", "HEAD")
    if not os.path.isfile(head):
        return "an extracted snapshot"
    with open(head) as f:
        ref = f.read().strip()
    if ref.startswith("ref: "):
        with open(os.path.join(path, ".git", ref[5:])) as f:
            return f.read().strip()
    return ref


if __name__ == "__main__":
    main()

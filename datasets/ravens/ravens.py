"""Ravens oracle demonstrations (`ravens` TFDS builder), read from `keras-suite ravens collect`."""

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from keras_suite.envs.ravens import TASKS
from keras_suite.envs.ravens.workspace import HEIGHTMAP_SHAPE

_DESCRIPTION = """
Demonstrations of the Ravens oracle on one of the ten Ravens tasks (one builder config a task).
Each example is one step of an episode: the fused top-down colour map and height map seen before
the action (320 x 160 pixels of 3.125 mm, rows along y), the pick and place pixels `(row, col)`
and rotations (radians about z), the full action poses, the reward, the episode id (its seed)
and the step index. Even seeds make the `train` split and odd seeds the `test` split.
"""

_CITATION = """
@inproceedings{zeng2020transporter,
  title={Transporter Networks: Rearranging the Visual World for Robotic Manipulation},
  author={Zeng, Andy and Florence, Pete and Tompson, Jonathan and Welker, Stefan and
          Chien, Jonathan and Attarian, Maria and Armstrong, Travis and Krasin, Ivan and
          Duong, Dan and Sindhwani, Vikas and Lee, Johnny},
  booktitle={Conference on Robot Learning (CoRL)},
  year={2020}
}
"""


class Ravens(tfds.core.GeneratorBasedBuilder):
    """Ravens demonstrations, one config a task, one example a step.

    The episodes are the `.npz` files written by `keras-suite ravens collect --out DIR` (or
    `keras_suite.envs.ravens.demonstrations.collect`) in `DIR/<task>/`; pass `DIR` as
    `manual_dir`.

    Features: `colormap` (320, 160, 3) uint8 image; `heightmap` (320, 160) float32 metres;
    `pick_pixel`, `place_pixel` (2,) int32 `(row, col)`; `pick_rotation`, `place_rotation`
    float32 radians; `pose0`, `pose1` (7,) float32 position + quaternion `(x, y, z, w)`;
    `reward` float32; `episode_id` int64 (the seed); `step` int32.

    Example:

    ```python
    import keras_suite.datasets  # registers the builder
    import tensorflow_datasets as tfds

    ds = tfds.load(
        "ravens/block-insertion", split="train",
        download_and_prepare_kwargs={
            "download_config": tfds.download.DownloadConfig(manual_dir="out/ravens/demos")
        },
    )
    ```
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=task) for task in TASKS]
    # TFDS infers these from the module name, which does not match the folder `datasets/`.
    code_path = epath.Path(__file__)
    pkg_dir_path = epath.Path(__file__).parent
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Collect demonstrations with `keras-suite ravens collect --task <task> --n 100 --out DIR`
    (add `--split test` for test episodes) and pass `DIR` as `manual_dir`:

        manual_dir/
          block-insertion/000000.npz
                          000002.npz
                          000001.npz   (odd seeds: test split)
    """

    def _info(self):
        rows, cols = HEIGHTMAP_SHAPE
        return self.dataset_info_from_configs(
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict(
                {
                    "colormap": tfds.features.Image(shape=(rows, cols, 3)),
                    "heightmap": tfds.features.Tensor(shape=(rows, cols), dtype=np.float32),
                    "pick_pixel": tfds.features.Tensor(shape=(2,), dtype=np.int32),
                    "place_pixel": tfds.features.Tensor(shape=(2,), dtype=np.int32),
                    "pick_rotation": tfds.features.Scalar(dtype=np.float32),
                    "place_rotation": tfds.features.Scalar(dtype=np.float32),
                    "pose0": tfds.features.Tensor(shape=(7,), dtype=np.float32),
                    "pose1": tfds.features.Tensor(shape=(7,), dtype=np.float32),
                    "reward": tfds.features.Scalar(dtype=np.float32),
                    "episode_id": tfds.features.Scalar(dtype=np.int64),
                    "step": tfds.features.Scalar(dtype=np.int32),
                }
            ),
            homepage="https://github.com/google-research/ravens",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        folder = epath.Path(dl_manager.manual_dir) / self.builder_config.name
        files = sorted(f for f in folder.glob("*.npz") if not f.name.startswith("."))
        if not files:
            found = sorted(p.name for p in folder.iterdir()) if folder.exists() else "no folder"
            raise FileNotFoundError(
                f"No Ravens episodes found in {folder}. Expected `<seed>.npz` files written by "
                f"`keras-suite ravens collect --task {self.builder_config.name} --out "
                f"{dl_manager.manual_dir}`. Received: {found}"
            )
        splits = {}
        for split, parity in (("train", 0), ("test", 1)):
            chosen = [f for f in files if int(f.name.split(".")[0]) % 2 == parity]
            if chosen:
                splits[split] = self._generate_examples(chosen)
        return splits

    def _generate_examples(self, files):
        for path in files:
            with path.open("rb") as f, np.load(f) as data:
                seed = int(data["seed"])
                for step in range(len(data["reward"])):
                    yield (
                        f"{seed}-{step}",
                        {
                            "colormap": data["colormap"][step],
                            "heightmap": data["heightmap"][step],
                            "pick_pixel": data["pick_pixel"][step],
                            "place_pixel": data["place_pixel"][step],
                            "pick_rotation": data["pick_rotation"][step],
                            "place_rotation": data["place_rotation"][step],
                            "pose0": data["pose0"][step],
                            "pose1": data["pose1"][step],
                            "reward": data["reward"][step],
                            "episode_id": seed,
                            "step": step,
                        },
                    )

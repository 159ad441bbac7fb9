"""Ravens oracle demonstrations (`ravens` TFDS builder), ours or the original Ravens' datasets."""

import dataclasses
import os

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from keras_suite.envs.ravens import TASKS
from keras_suite.envs.ravens.demonstrations import (
    EPISODE_KEYS,
    SPLITS,
    demonstration_paths,
    demonstrations_fingerprint,
    load_episode,
    task_episodes,
)
from keras_suite.envs.ravens.workspace import HEIGHTMAP_SHAPE

_DESCRIPTION = """
Demonstrations of the Ravens oracle on one of the ten Ravens tasks (one builder config a task).
Each example is one step of an episode: the fused top-down colour map and height map seen before
the action (320 x 160 pixels of 3.125 mm, rows along y), the pick and place pixels `(row, col)`
and rotations (radians about z), the full action poses, the reward, the episode id (its seed)
and the step index. Even seeds make the `train` split and odd seeds the `test` split. The
episodes come from `keras-suite ravens collect` or from a dataset of the original Ravens, whose
camera images are fused into the same maps.
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
    `keras_suite.envs.ravens.demonstrations.collect`) in `DIR/<task>/`, or a dataset of the
    original Ravens (its `demos.py --data_dir=DIR` writes `DIR/<task>-train/` and
    `DIR/<task>-test/`, whose camera images are fused into the maps here); pass `DIR` as
    `manual_dir`. The episodes are read as `train_transporter` reads them
    (`demonstration_paths`, `load_episode`). The prepared data records a fingerprint of the
    episode files (names, sizes, modification times): `download_and_prepare` (which `tfds.load`
    calls) rebuilds it when the files have changed since, and `as_dataset` on stale data raises
    an error saying how to rebuild it.

    Features: `colormap` (320, 160, 3) uint8 image; `heightmap` (320, 160) float32 metres;
    `pick_pixel`, `place_pixel` (2,) int32 `(row, col)`; `pick_rotation`, `place_rotation`
    float32 radians; `pose0`, `pose1` (7,) float32 position + quaternion `(x, y, z, w)`;
    `reward` float32; `episode_id` int64 (the seed); `step` int32.

    Example:

    ```python
    import tensorflow_datasets as tfds

    from keras_suite.datasets import Ravens  # registers the `ravens` builder

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

    or pass the `--data_dir` of the original Ravens' `demos.py`:

        manual_dir/
          block-insertion-train/action/000000-0.pkl
                                color/000000-0.pkl
                                depth/...  info/...  reward/...
          block-insertion-test/...
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
            metadata=tfds.core.MetadataDict(),
        )

    def download_and_prepare(self, *, download_dir=None, download_config=None, **kwargs):
        """Prepares the data; rebuilds it when the episode files changed since it was built."""
        download_config = download_config or tfds.download.DownloadConfig()
        downloads = download_dir or os.path.join(os.fspath(self.data_dir_root), "downloads")
        manual_dir = download_config.manual_dir or os.path.join(os.fspath(downloads), "manual")
        if self.data_path.exists() and self._stale_reason(manual_dir):
            download_config = dataclasses.replace(
                download_config, download_mode=tfds.download.GenerateMode.FORCE_REDOWNLOAD
            )
        super().download_and_prepare(
            download_dir=download_dir, download_config=download_config, **kwargs
        )

    def is_prepared(self):
        """Whether the data is prepared and its episode files have not changed since."""
        return super().is_prepared() and not self._stale_reason(
            self.info.metadata.get("manual_dir")
        )

    def _as_dataset(self, *args, **kwargs):
        reason = self._stale_reason(self.info.metadata.get("manual_dir"))
        if reason:
            raise ValueError(
                f"The prepared `{self.name}/{self.builder_config.name}` data in {self.data_dir} "
                f"is stale: {reason}. Rebuild it with `builder.download_and_prepare(...)` "
                "(`tfds.load` does it) or delete the folder. Received: "
                f"data_dir={self.data_dir}"
            )
        return super()._as_dataset(*args, **kwargs)

    def _stale_reason(self, manual_dir):
        """Why the prepared data no longer matches the episodes in `manual_dir`, or `None`."""
        built = self.info.metadata.get("fingerprint")
        if built is None:
            return "it records no fingerprint of its episode files"
        if manual_dir is None:
            return None
        paths = task_episodes(os.fspath(manual_dir), self.builder_config.name)
        if demonstrations_fingerprint(paths) != built:
            return f"the episode files in {manual_dir} changed since it was built"
        return None

    def _split_generators(self, dl_manager):
        manual_dir = os.fspath(dl_manager.manual_dir)
        task = self.builder_config.name
        paths = task_episodes(manual_dir, task)
        if not paths:
            demonstration_paths(manual_dir, task)  # raises, naming the folder and the command
        self.info.metadata["manual_dir"] = manual_dir
        self.info.metadata["fingerprint"] = demonstrations_fingerprint(paths)
        splits = {}
        for split in SPLITS:
            try:
                chosen = demonstration_paths(manual_dir, task, split)
            except FileNotFoundError:
                continue
            splits[split] = self._generate_examples(chosen)
        return splits

    def _generate_examples(self, paths):
        for path in paths:
            episode = load_episode(path)
            seed = episode["seed"]
            for step in range(len(episode["reward"])):
                example = {key: episode[key][step] for key in EPISODE_KEYS}
                yield f"{seed}-{step}", dict(example, episode_id=seed, step=step)

"""The ten Ravens tasks, by name."""

from keras_suite.envs.ravens.tasks.align_box_corner import AlignBoxCorner
from keras_suite.envs.ravens.tasks.assembling_kits import AssemblingKits
from keras_suite.envs.ravens.tasks.block_insertion import BlockInsertion
from keras_suite.envs.ravens.tasks.manipulating_rope import ManipulatingRope
from keras_suite.envs.ravens.tasks.packing_boxes import PackingBoxes
from keras_suite.envs.ravens.tasks.palletizing_boxes import PalletizingBoxes
from keras_suite.envs.ravens.tasks.place_red_in_green import PlaceRedInGreen
from keras_suite.envs.ravens.tasks.stack_block_pyramid import StackBlockPyramid
from keras_suite.envs.ravens.tasks.sweeping_piles import SweepingPiles
from keras_suite.envs.ravens.tasks.task import Goal, Task
from keras_suite.envs.ravens.tasks.towers_of_hanoi import TowersOfHanoi

TASK_CLASSES = {
    cls.name: cls
    for cls in [
        AlignBoxCorner,
        AssemblingKits,
        BlockInsertion,
        ManipulatingRope,
        PackingBoxes,
        PalletizingBoxes,
        PlaceRedInGreen,
        StackBlockPyramid,
        SweepingPiles,
        TowersOfHanoi,
    ]
}

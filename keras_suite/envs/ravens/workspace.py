"""The Ravens workspace: bounds and the top-down map's pixel grid (no simulator needed)."""

import numpy as np

#: Workspace bounds in metres: rows x, y, z; columns low, high.
BOUNDS = np.array([[0.25, 0.75], [-0.5, 0.5], [0.0, 0.28]])
#: Side of one heightmap pixel in metres.
PIXEL_SIZE = 0.003125
#: Heightmap shape: rows along y, columns along x.
HEIGHTMAP_SHAPE = (
    int(round((BOUNDS[1, 1] - BOUNDS[1, 0]) / PIXEL_SIZE)),
    int(round((BOUNDS[0, 1] - BOUNDS[0, 0]) / PIXEL_SIZE)),
)
#: The table top's colour (original Ravens' assets/ur5/workspace.urdf, material DarkGrey).
TABLE_COLOR = (0.2, 0.2, 0.2, 1.0)

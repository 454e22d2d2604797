"""Reading and writing image stacks and label files (Qt-free).

``open_stack`` opens TIFF (plain, ImageJ, OME), OME-Zarr, folders and globs of TIFFs lazily as
a :class:`Stack` whose axes come in the canonical ``TZCYX`` order whatever the file's
(``canonical``: a transposed view, nothing copied); ``write_stack`` and ``open_output`` write results atomically; the selection
helpers pick the channel, time points, Z range and 2D/3D interpretation to segment.
"""

from unet_studio.app.io.lazy import LazyArray
from unet_studio.app.io.opening import open_stack
from unet_studio.app.io.output import open_output
from unet_studio.app.io.select import Selection, loop_axes, read_input, select, spatial_axes
from unet_studio.app.io.stack import Stack
from unet_studio.app.io.write import write_stack

__all__ = [
    "LazyArray", "Selection", "Stack", "loop_axes", "open_output", "open_stack", "read_input",
    "select", "spatial_axes", "write_stack",
]

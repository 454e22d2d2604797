"""The interior's distance map, the labelling's most repeated step.

``scipy.ndimage.distance_transform_edt`` computes a feature transform (the index of the
nearest background pixel, one int array per axis) and derives distances from it; the
``edt`` package computes the squared distances directly, axis by axis, about 5x faster on a
labelling batch. Both are exact: squared distances are sums of squared steps, the same in
either (exactly so for whole-number pixel sizes; otherwise within float rounding, a unit in
the last place of float32). scipy remains the fallback where ``edt`` does not apply: 1D
arrays, masks without any background pixel (no distance is defined), or ``edt`` missing.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

try:
    import edt as _edt
except ImportError:  # (a platform without its wheel: scipy alone, slower)
    _edt = None


def distance_map(mask: np.ndarray, sampling=None) -> np.ndarray:
    """Euclidean distance (float32) of each ``mask`` pixel to the nearest pixel outside it,
    in units of ``sampling`` (pixel size per axis; None: 1)."""
    mask = np.asarray(mask, bool)
    if _edt is not None and mask.ndim in (2, 3) and not mask.all():
        anisotropy = (1.0,) * mask.ndim if sampling is None else tuple(float(s) for s in sampling)
        # One core: edt holds Python's lock while it runs, so the distance maps of batches on
        # different labelling threads take turns; giving each call the threads' cores
        # (``parallel``) measured no faster on 2 cores (it starts its threads every call).
        return _edt.edt(np.ascontiguousarray(mask), anisotropy=anisotropy, black_border=False,
                        parallel=1)
    return ndi.distance_transform_edt(mask, sampling=sampling).astype(np.float32, copy=False)

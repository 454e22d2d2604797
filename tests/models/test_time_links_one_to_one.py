"""Two objects of neighbouring time points that overlap each other and nothing else are
one object, however little they overlap (QA: a HeLa nucleus moving 16 px, 0.65 of its
diameter, while its neighbours barely moved, got a new id)."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.models.time_links import TimeLinker, matched_ids


def disc(shape, centre, radius):
    yy, xx = np.indices(shape)
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def still_field_and_one_mover(step=(0, 8), mover_radius=6):
    """Six nuclei that stay put and one (radius 6) that moves ``step`` pixels, its outline
    then of radius ``mover_radius``: ids 1..N at each time point, the mover last."""
    shape = (60, 160)
    before, after = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    for label in range(1, 7):
        before[disc(shape, (15, 15 + 26 * label - 26), 6)] = label
        after[disc(shape, (15, 15 + 26 * label - 26), 6)] = label
    before[disc(shape, (45, 70), 6)] = 7
    after[disc(shape, (45 + step[0], 70 + step[1]), mover_radius)] = 7
    return before, after


@pytest.mark.parametrize("radius", [6, 3])  # moved, or moved and cut down to a quarter
def test_a_nucleus_overlapping_only_itself_keeps_its_id_where_the_others_barely_move(radius):
    before, after = still_field_and_one_mover(mover_radius=radius)
    mover_before, mover_after = before == 7, after == 7
    assert (mover_before & mover_after).sum() / (mover_before | mover_after).sum() < 0.25
    assert matched_ids(before, after) == {label: label for label in range(1, 8)}
    linker = TimeLinker(2)
    linker.link(0, before)
    linker.link(1, after)
    assert after[45, 78] == before[45, 70]


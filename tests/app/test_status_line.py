"""The CLI's status line through the labelling of a stack's objects: a step the tiles' pace
says nothing about, so it gets its own progress and time left."""

from __future__ import annotations

import io

from unet_studio.app.commands.predict import StatusLine  # (the one predict draws)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_labelling_shows_its_own_progress_and_the_time_left_is_the_tiles_until_then():
    now = [0.0]
    stream = Terminal()
    line = StatusLine("stack", stream, clock=lambda: now[0], labelling=True)
    for tile in range(1, 5):  # a tile every 30 s; 6 tiles and the labelling step left
        line.update(tile, 11, "predict")
        now[0] += 30
    shown = stream.getvalue().split("\r")
    assert shown[-1] == "stack:  36% (4/11), about 4 min left for the tiles, then labelling objects"
    line.update(10, 11, "predict")
    line.update(10.25, 11, "labelling")  # a quarter of the objects labelled
    now[0] += 30
    line.update(10.5, 11, "labelling")  # another quarter, 30 s later: 1 min to go
    shown = [text.rstrip() for text in stream.getvalue().split("\r")]
    assert shown[-2:] == ["stack: labelling objects 25%", "stack: labelling objects 50%, about 1 min left"]
    line.update(11, 11, "postprocess")
    assert stream.getvalue().split("\r")[-1].rstrip() == "stack: 100% (11/11)"


def test_after_a_labelling_the_time_left_is_the_whole_runs():
    """A time series: the next time point's tiles are timed with the labelling before them
    in the pace, so the time left stands for all that is left."""
    now = [0.0]
    stream = Terminal()
    line = StatusLine("series", stream, clock=lambda: now[0], labelling=True)
    line.update(1, 4, "predict")
    line.update(1.5, 4, "labelling")
    now[0] += 30
    line.update(2, 4, "postprocess")
    line.update(3, 4, "predict")
    assert stream.getvalue().split("\r")[-1].rstrip() == "series:  75% (3/4), about 15 s left"


def test_a_time_series_keeps_one_bar_through_its_labellings():
    """Each time point's objects are labelled after its tiles: the run's percentage goes on
    through them (it went back from the run's 50 % to the labelling's 0-100 % each time)."""
    stream = Terminal()
    line = StatusLine("series", stream, clock=lambda: 0.0, labelling=True)
    shown = []
    for point in range(3):  # 3 time points of 2 tiles and a labelling step each
        base = 3 * point
        for done, stage in ((base + 1, "predict"), (base + 2, "predict"), (base + 2.5, "labelling"),
                            (base + 2.9, "labelling"), (base + 3, "postprocess")):
            line.update(done, 9, stage)
            shown.append(stream.getvalue().split("\r")[-1].rstrip())
    percents = [int(text.split("%")[0].split()[-1]) for text in shown]
    assert percents == sorted(percents) and percents[-1] == 100
    assert not any("labelling objects" in text for text in shown)

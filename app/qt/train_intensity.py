"""A Train round and the Segment panel share the intensity ranges they take (in the session's
``IntensityCache``): both normalise by the exact percentiles of the whole image, a pass over
every pixel (~20 s for a 1 GiB stack on two cores), so a round on an image just segmented,
or a second round, skips it.

The pixels must be the same for a range to be shared: the same image array, and the same
pick along C (a channel, its luminance, the RGB of RGBA, all), keyed as the Segment panel
keys a whole-image run (``segment_intensity.pixels_key``). GUI thread only.
"""

from __future__ import annotations

from unet_studio.app.qt.segment_intensity import IntensityFound, pixels_key


def whole_image_key(image, channel):
    """The key of a whole-image Segment run over ``image`` (a HostImage) taking ``channel``
    along C (``training_data.channel_to_learn``'s pick; None: all channels)."""
    index = tuple((slice(None) if channel is None else channel) if letter == "C" else slice(None)
                  for letter in image.axes)  # fmt: skip
    return pixels_key(image.data, image.axes, index)


def use_known_intensity(example, cache, key) -> None:
    """Give the PendingExample ``example`` the range the cache holds for its pixels (``key``)
    at its percentiles, if any: its round then reads no pass over the image."""
    from unet_studio.models.training.examples import SourceIntensity

    example.pixels_key = key
    lower, upper = example.percentiles
    found = cache.known(key).get((float(lower), float(upper)))
    if found is not None:
        example.intensity = SourceIntensity(lower, upper, found.low, found.high)


def keep_round_intensities(cache, pending: list, examples: list) -> None:
    """After a round: keep the ranges its examples were normalised with (``examples``, read
    from ``pending`` in order) for the next run or round on the same pixels."""
    from unet_studio.models.normalize import IntensityRange

    for waiting, example in zip(pending, examples):
        key, taken = getattr(waiting, "pixels_key", None), getattr(example, "intensity", None)
        if key is None or taken is None:
            continue
        found = IntensityRange(low=taken.low, high=taken.high)
        cache.keep(IntensityFound(waiting.name, key, (float(taken.lower), float(taken.upper)),
                                  found, ()))

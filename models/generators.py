"""Running the engine's step-by-step generators to their end."""

from __future__ import annotations


def drain(generator):
    """Run a generator to the end and return its result."""
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value


def relay(generator, convert):
    """Re-yield ``convert(step)`` for each step of ``generator``; return its result (a
    ``yield from`` that changes what each step reports)."""
    try:
        while True:
            try:
                step = next(generator)
            except StopIteration as stop:
                return stop.value
            yield convert(step)
    finally:  # stopped early: the inner generator's own cleanup runs now
        generator.close()

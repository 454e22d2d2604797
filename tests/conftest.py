"""Shared fixtures. Real data crops live in tests/data (copied from the shared data set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Two cores in CI: one torch thread per test process keeps runs predictable.
os.environ.setdefault("OMP_NUM_THREADS", "1")

TEST_DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def test_data_dir() -> Path:
    return TEST_DATA


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        yield
        return
    torch.set_num_threads(1)
    yield

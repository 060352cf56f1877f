"""Fixtures shared by the unit tests (no server)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny graphs: one torch thread is faster than two fighting over a shared 2-core CI machine."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def restore_mlflow_globals():
    """MLflow keeps the tracking URI process-wide and mirrors it into $MLFLOW_TRACKING_URI; put both back
    (None unsets them) so later tests and load_settings() do not see this test's database."""
    import mlflow

    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(before)

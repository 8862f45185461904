"""conftest.py: paths the Python tests share (the repository, its models and test data)."""

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
TEST_MODELS = REPO / "tests" / "models"
ONNX_DATA = pathlib.Path("/usr/share/libonnx-testdata/data")


@pytest.fixture(scope="session")
def fashion_cnn():
    return str(MODELS / "fashion_cnn.onnx")

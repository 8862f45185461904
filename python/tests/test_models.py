"""test_models.py: the PyTorch-exported models under tests/models (tools/make_models.py and
make_seq_models.py made them and stored PyTorch's outputs) give those outputs through Python."""

import pytest

from conftest import TEST_MODELS
from onnx_folders import check_folder

FOLDERS = sorted(p.parent.name for p in TEST_MODELS.glob("*/test_data_set_0"))


def test_every_model_with_data_is_covered():
    # loader_unsupported has no data: test_errors.py loads it for UnsupportedError.
    assert len(FOLDERS) >= 12, FOLDERS


@pytest.mark.parametrize("name", FOLDERS)
def test_model_gives_pytorch_outputs(name):
    check_folder(TEST_MODELS / name)

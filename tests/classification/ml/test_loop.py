"""The shared epoch loop: an interrupted training resumes to the same weights."""

import numpy as np
import pytest
import torch

from classification.ml.fashion import FashionConfig
from classification.ml.fashion_training import train_fashion
from classification.ml.heads import HeadConfig, train_linear_head
from classification.ml.loop import Checkpoint, CheckpointMismatch
from tests.classification.ml.test_fashion import _bars
from tests.classification.ml.test_training import _blobs


class Interrupted(Exception):
    pass


def _stop_after(epochs: int):
    """An after_epoch callback that interrupts the training after ``epochs``."""
    seen = []

    def after_epoch(entry):
        seen.append(entry)
        if len(seen) == epochs:
            raise Interrupted

    return after_epoch


def _without_seconds(history):
    return [{k: v for k, v in entry.items() if k != "seconds"} for entry in history]


def _assert_same_state(left: dict, right: dict):
    assert left.keys() == right.keys()
    for key in left:
        assert torch.equal(left[key], right[key]), key


FASHION = FashionConfig(epochs=4, batch_size=32, lr=0.05, widths=(8, 16, 32))


def _fashion(**kwargs):
    images, labels = _bars(96, 1)
    val = _bars(32, 2)
    return train_fashion(
        images, labels, num_classes=2, config=FASHION, seed=3, val=val, **kwargs
    )


def test_an_interrupted_fashion_training_resumes_to_the_same_weights(tmp_path):
    model, history = _fashion()
    path = tmp_path / "fashion.ckpt"
    with pytest.raises(Interrupted):
        _fashion(checkpoint=path, after_epoch=_stop_after(2))
    assert path.exists()

    epochs_run = []
    resumed, resumed_history = _fashion(
        checkpoint=path, after_epoch=lambda entry: epochs_run.append(entry["epoch"])
    )
    assert epochs_run == [3, 4]
    _assert_same_state(resumed.state_dict(), model.state_dict())
    assert _without_seconds(resumed_history) == _without_seconds(history)
    assert [entry["epoch"] for entry in resumed_history] == [1, 2, 3, 4]


def test_a_finished_training_read_from_its_checkpoint_runs_no_epoch_again(tmp_path):
    path = tmp_path / "fashion.ckpt"
    model, history = _fashion(checkpoint=path)
    epochs_run = []
    again, again_history = _fashion(checkpoint=path, after_epoch=epochs_run.append)
    assert epochs_run == []
    _assert_same_state(again.state_dict(), model.state_dict())
    assert again_history == history


def test_a_checkpoint_of_another_training_is_refused(tmp_path):
    path = tmp_path / "fashion.ckpt"
    with pytest.raises(Interrupted):
        _fashion(checkpoint=path, after_epoch=_stop_after(1))
    images, labels = _bars(96, 1)
    with pytest.raises(CheckpointMismatch, match="written by another training"):
        train_fashion(
            images, labels, num_classes=2, config=FASHION, seed=4, checkpoint=path
        )


def test_an_interrupted_head_resumes_to_the_same_weights_and_early_stop(tmp_path):
    x, y = _blobs(0)
    xv, yv = _blobs(1, 30)
    config = HeadConfig(max_steps=400, patience=5)

    def train(**kwargs):
        return train_linear_head(
            x, y, xv, yv, n_classes=3, config=config, seed=7, **kwargs
        )

    weight, bias, history = train()
    # Validation decides when it stops: the run must not simply use every step.
    assert history[-1]["step"] < config.max_steps
    path = tmp_path / "head.ckpt"
    with pytest.raises(Interrupted):
        train(checkpoint=path, after_epoch=_stop_after(3))
    resumed_weight, resumed_bias, resumed_history = train(checkpoint=path)
    assert torch.equal(resumed_weight, weight) and torch.equal(resumed_bias, bias)
    assert resumed_history == history


def test_a_checkpoint_is_replaced_whole_or_not_at_all(tmp_path):
    path = tmp_path / "run" / "state.ckpt"
    checkpoint = Checkpoint(path, fingerprint={"run": 1})
    checkpoint.write({"epoch": 1, "weights": torch.ones(3)})
    with pytest.raises(Exception, match=r"pickle|lambda"):
        checkpoint.write({"epoch": 2, "weights": lambda: None})
    # The first epoch's file is intact, and no temporary file is left beside it.
    assert checkpoint.read()["epoch"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["state.ckpt"]
    np.testing.assert_array_equal(checkpoint.read()["weights"].numpy(), np.ones(3))

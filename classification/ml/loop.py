"""The epoch loop every trainer here shares, with a checkpoint after each epoch.

The linear head (rounds of full-batch steps between validation checks), the
fine-tuned tail and the Fashion-MNIST network all train as a run of epochs: the
trainer says what one epoch does and how to score the validation set; the loop
records the history, stops early, keeps the best weights and writes checkpoints.

A checkpoint holds everything the next epoch depends on: the weights, the
optimiser and its schedule, the random generators (torch's global one, which
augmentation and dropout draw from, and the trainer's own), the history and the
early-stopping state. Given the same checkpoint path, a run that was interrupted
resumes after its last completed epoch and ends with the same weights as a run
that never stopped.
"""

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from classification.ml.evaluation import validation_scores

Progress = Callable[[float, str], None]
Entry = dict[str, float]
# Bumped when what a checkpoint holds changes: an older one is then refused.
CHECKPOINT_FORMAT = 1
# The early-stopping margin: a smaller fall of the validation loss is noise.
MIN_IMPROVEMENT = 1e-5


def no_progress(fraction: float, message: str) -> None:
    return None


def seed_everything(seed: int) -> None:
    """Seed torch and numpy, and make the CPU kernels deterministic."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    torch.use_deterministic_algorithms(True, warn_only=True)


def use_threads(threads: int | None) -> None:
    """Run torch's CPU kernels on ``threads`` threads; None keeps the current count."""
    if threads:
        torch.set_num_threads(threads)


def digest(values: Tensor | np.ndarray) -> str:
    """Return the SHA-256 of an array's bytes: a checkpoint's record of its data."""
    array = np.ascontiguousarray(torch.as_tensor(values).numpy())
    return f"{array.dtype}{array.shape}:{hashlib.sha256(array.tobytes()).hexdigest()}"


class CheckpointMismatch(ValueError):
    """The checkpoint was written by another training (other data or settings)."""


class Checkpoint:
    """The file that holds one training's state after its last completed epoch.

    ``fingerprint`` describes the training (its settings, seed and data sizes);
    a file written with another fingerprint is refused rather than resumed.
    """

    def __init__(self, path: str | os.PathLike, *, fingerprint: dict[str, Any]):
        self.path = Path(path)
        self.fingerprint = fingerprint

    def read(self) -> dict[str, Any] | None:
        """Return the saved state, or None when nothing was saved yet."""
        if not self.path.exists():
            return None
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointMismatch(
                f"{self.path} has checkpoint format {state.get('format')!r}, "
                f"not {CHECKPOINT_FORMAT}"
            )
        if state["fingerprint"] != self.fingerprint:
            raise CheckpointMismatch(
                f"{self.path} was written by another training: "
                f"{state['fingerprint']} is not {self.fingerprint}"
            )
        return state

    def write(self, state: dict[str, Any]) -> None:
        """Save ``state`` under a temporary name, then rename it over the file.

        A crash mid-write leaves the previous epoch's checkpoint whole.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": CHECKPOINT_FORMAT,
            "fingerprint": self.fingerprint,
            **state,
        }
        fd, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(fd, "wb") as file:
                torch.save(payload, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@dataclass
class Trainee:
    """What an epoch changes: the model, its optimiser and schedule, a generator."""

    model: nn.Module
    optimiser: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator | None = None

    def step(self, loss: Tensor) -> float:
        """Take one optimiser step (and one of the schedule) down the gradient of
        a batch's ``loss``; return the loss's value."""
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        self.schedule.step()
        return loss.item()

    def state(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimiser": self.optimiser.state_dict(),
            "schedule": self.schedule.state_dict(),
            "generator": self.generator.get_state() if self.generator else None,
            "torch_rng": torch.get_rng_state(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimiser.load_state_dict(state["optimiser"])
        self.schedule.load_state_dict(state["schedule"])
        if self.generator is not None:
            self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])


def _copy(state: dict[str, Tensor]) -> dict[str, Tensor]:
    return {key: value.detach().clone() for key, value in state.items()}


def run_epochs(
    trainee: Trainee,
    *,
    epochs: int,
    train_epoch: Callable[[int], Entry],
    validate: Callable[[], tuple[Tensor, Tensor]] | None = None,
    patience: int | None = None,
    timed: bool = False,
    checkpoint: Checkpoint | None = None,
    after_epoch: Callable[[Entry], None] | None = None,
) -> list[Entry]:
    """Run epochs 1 to ``epochs`` of ``train_epoch``; return the history.

    ``train_epoch(k)`` trains epoch k and returns its history entry; ``timed``
    adds the training's ``seconds`` so far. ``validate`` returns the validation
    set's (logits, labels): its loss and accuracy join each entry. With
    ``patience``, training stops once the validation loss has not fallen for
    ``patience`` epochs, and the model gets the weights of its lowest validation
    loss back. ``after_epoch`` sees each entry once it is checkpointed.
    """
    early_stopping = validate is not None and patience is not None
    history: list[Entry] = []
    best_loss, best_state, stale = float("inf"), None, 0
    done, finished, seconds = 0, False, 0.0
    if early_stopping:
        best_state = _copy(trainee.model.state_dict())
    saved = checkpoint.read() if checkpoint else None
    if saved is not None:
        trainee.restore(saved)
        history = list(saved["history"])
        best_loss, best_state = saved["best_loss"], saved["best_state"]
        stale, done, seconds = saved["stale"], saved["epoch"], saved["seconds"]
        finished = saved["finished"]
    started = time.perf_counter() - seconds
    epoch = done
    while not finished and epoch < epochs:
        epoch += 1
        entry = train_epoch(epoch)
        if timed:
            entry["seconds"] = round(time.perf_counter() - started, 1)
        if validate is not None:
            val_loss, scores = validation_scores(*validate())
            entry.update(scores)
            if early_stopping:
                if val_loss < best_loss - MIN_IMPROVEMENT:
                    best_loss, stale = val_loss, 0
                    best_state = _copy(trainee.model.state_dict())
                else:
                    stale += 1
        history.append(entry)
        finished = epoch == epochs or (early_stopping and stale >= patience)
        if checkpoint is not None:
            checkpoint.write(
                {
                    **trainee.state(),
                    "epoch": epoch,
                    "epochs": epochs,
                    "finished": finished,
                    "history": history,
                    "best_loss": best_loss,
                    "best_state": best_state,
                    "stale": stale,
                    "seconds": time.perf_counter() - started,
                }
            )
        if after_epoch is not None:
            after_epoch(entry)
    if early_stopping:
        trainee.model.load_state_dict(best_state)
    return history

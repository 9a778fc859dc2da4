"""Serve a model version with ONNX Runtime, exported from and checked against PyTorch.

PyTorch trains; the worker runs the same network exported to ONNX, which ONNX
Runtime executes in about half the CPU time of eager PyTorch with the same
outputs (``bench/serving_runtime.py``; OpenVINO f32 measured the same time and
needs a two-file model). The export covers the features and the head; the
transform stays in Python, so both runtimes see the same tensors.

An export is only served once it agrees with PyTorch on photos (a version's
validation photos, or :func:`probe_images`): the same top-1 on at least
``MIN_TOP1_AGREEMENT`` of them and no probability further than
``MAX_PROBABILITY_DIFFERENCE``. Otherwise the version stays on PyTorch, and its
check says why.
"""

import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor, nn

from classification.ml.architectures import get_architecture
from classification.ml.artifacts import Network
from imaging.colour import to_rgb

logger = logging.getLogger(__name__)

ONNXRUNTIME = "onnxruntime"
PYTORCH = "pytorch"
# f32 kernels reorder sums: measured differences are about 2e-6 on Myntra photos.
MAX_PROBABILITY_DIFFERENCE = 1e-3
MIN_TOP1_AGREEMENT = 0.995
OPSET = 18


class ExportedNetwork(nn.Module):
    """Image batch -> (embedding, probabilities), the graph that is exported."""

    def __init__(self, network: Network) -> None:
        super().__init__()
        self.features = network.features
        self.head = network.head

    def forward(self, batch: Tensor) -> tuple[Tensor, Tensor]:
        embedding = self.features(batch)
        return embedding, self.head(embedding)


def export_onnx(network: Network, sample: Tensor) -> bytes:
    """Return the ONNX model of ``network``, traced on ``sample`` (N, C, H, W).

    The batch size stays dynamic. TorchScript tracing exports Lite0 in under a
    second; the torch.export path took 13 s and needs two more packages.
    """
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            ExportedNetwork(network).eval(),
            (sample,),
            buffer,
            input_names=["image"],
            output_names=["embedding", "probabilities"],
            dynamic_axes={"image": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


class OnnxSession:
    """An ONNX Runtime session of an exported network, on ``threads`` threads."""

    def __init__(self, model: bytes, *, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        # Sleep between operators rather than spin, as OMP_WAIT_POLICY=PASSIVE.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            model, options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, batch: Tensor) -> tuple[Tensor, Tensor]:
        embedding, probabilities = self._session.run(
            None, {"image": np.ascontiguousarray(batch.numpy(), dtype=np.float32)}
        )
        return torch.from_numpy(embedding), torch.from_numpy(probabilities)


@dataclass(frozen=True)
class ExportCheck:
    """How an export's outputs compared with PyTorch's on the same photos."""

    photos: int
    top1_agreement: float
    max_probability_difference: float
    max_embedding_difference: float

    @property
    def agrees(self) -> bool:
        return (
            self.photos > 0
            and self.top1_agreement >= MIN_TOP1_AGREEMENT
            and self.max_probability_difference <= MAX_PROBABILITY_DIFFERENCE
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "agrees": self.agrees}


def check_export(
    network: Network, session: OnnxSession, photos: Sequence[Image.Image]
) -> ExportCheck:
    """Run ``photos`` through PyTorch and the session; compare what they say."""
    agree, max_p, max_e = 0, 0.0, 0.0
    for start in range(0, len(photos), 8):
        batch = torch.stack(
            [network.transform(to_rgb(photo)) for photo in photos[start : start + 8]]
        )
        with torch.inference_mode():
            embedding = network.features(batch)
            probabilities = network.head(embedding)
        served_embedding, served_probabilities = session(batch)
        agree += int(
            (probabilities.argmax(1) == served_probabilities.argmax(1)).sum().item()
        )
        max_p = max(max_p, _largest_difference(probabilities, served_probabilities))
        max_e = max(max_e, _largest_difference(embedding, served_embedding))
    return ExportCheck(
        photos=len(photos),
        top1_agreement=round(agree / len(photos), 4) if photos else 0.0,
        max_probability_difference=max_p,
        max_embedding_difference=max_e,
    )


def _largest_difference(a: Tensor, b: Tensor) -> float:
    difference = (a - b).abs().max().item() if a.numel() else 0.0
    # NaN compares false everywhere: count it as the largest difference there is.
    return float("inf") if difference != difference else float(difference)


def probe_images(count: int = 24, *, seed: int = 0) -> list[Image.Image]:
    """Return ``count`` varied, deterministic pictures for a version with no
    validation photos of its own (the ImageNet default): gradients, shapes and
    noise at several sizes, so that every layer sees contrast and colour."""
    rng = np.random.default_rng(seed)
    images = []
    for i in range(count):
        width, height = (int(v) for v in rng.integers(160, 480, 2))
        y, x = np.mgrid[0:height, 0:width] / max(width, height)
        base = np.stack(
            [
                np.sin(
                    x * rng.uniform(1, 12) + y * rng.uniform(1, 12) + rng.uniform(0, 6)
                )
                for _ in range(3)
            ],
            -1,
        )
        noise = rng.normal(0, 0.15 * (i % 4), (height, width, 3))
        pixels = np.clip((base + noise) * 100 + 127, 0, 255).astype(np.uint8)
        image = Image.fromarray(pixels)
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(1, 6))):
            box = sorted(rng.integers(0, width, 2)), sorted(rng.integers(0, height, 2))
            colour = tuple(int(c) for c in rng.integers(0, 255, 3))
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape([box[0][0], box[1][0], box[0][1], box[1][1]], fill=colour)
        images.append(image)
    return images


def export_checked(
    artifact: dict, photos: Sequence[Image.Image], *, threads: int = 1
) -> tuple[bytes | None, dict]:
    """Export the network ``artifact`` describes and check it on ``photos``.

    Return the ONNX bytes and a record of the check, or None and the reason the
    version is served by PyTorch (an export that fails or disagrees).
    """
    network = get_architecture(artifact.get("architecture")).build(artifact)
    try:
        sample = torch.stack([network.transform(to_rgb(p)) for p in photos[:2]])
        model = export_onnx(network, sample)
        check = check_export(network, OnnxSession(model, threads=threads), photos)
    except Exception as error:
        # Whatever the exporter or the runtime refuses, PyTorch still serves the
        # version: the failure is logged in full and recorded with it.
        logger.warning("ONNX export failed: %s", error, exc_info=True)
        return None, {"runtime": PYTORCH, "reason": f"The export failed: {error}"}
    record = {"check": check.as_dict()}
    if not check.agrees:
        return None, {
            **record,
            "runtime": PYTORCH,
            "reason": (
                f"The ONNX export disagreed with PyTorch on {check.photos} photos "
                f"(top-1 agreement {check.top1_agreement:.2%}, largest probability "
                f"difference {check.max_probability_difference:.2g}); "
                "served by PyTorch."
            ),
        }
    return model, {**record, "runtime": ONNXRUNTIME}

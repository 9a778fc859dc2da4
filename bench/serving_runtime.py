"""CPU time per photo and agreement of the serving runtimes against eager PyTorch.

Usage::

    .venv/bin/python bench/serving_runtime.py ../shared/datasets/fashion-products \\
        [--rounds 3] [--count N] [--artifact FILE]

Takes the Myntra benchmark's test photos (the 10 article types, split as
``bench/myntra.py`` splits them with seed 0), runs the default version (or the
saved ``--artifact``) on one thread, one photo a call, in eager PyTorch, in ONNX
Runtime from our export and, when the ``openvino`` package is installed, in
OpenVINO f32 converted from the same network. The runtimes take turns in each
round, so that a busy machine slows them alike; the figure is each one's median
CPU time per photo over the rounds. Agreement is top-1 and the largest
probability difference against eager PyTorch, over all the test photos.
"""

import argparse
import json
import resource
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.myntra import ten_categories
from classification.ml.artifacts import artifact_from_bytes
from classification.ml.data import stratified_split
from classification.ml.efficientnet import default_artifact
from classification.ml.imagenet_map import TAXONOMY_IMAGENET_CLASSES
from classification.ml.inference import Classifier
from classification.ml.runtime import ExportedNetwork, OnnxSession, export_onnx


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def openvino_runner(network, sample):
    try:
        import openvino
    except ImportError:
        return None
    with torch.no_grad():
        model = openvino.convert_model(
            ExportedNetwork(network).eval(), example_input=sample
        )
    compiled = openvino.Core().compile_model(
        model,
        "CPU",
        {"INFERENCE_NUM_THREADS": 1, "INFERENCE_PRECISION_HINT": "f32"},
    )
    request = compiled.create_infer_request()

    def run(batch):
        outputs = list(request.infer([batch.numpy()]).values())
        return torch.from_numpy(outputs[0].copy()), torch.from_numpy(outputs[1].copy())

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the fashion-products folder")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, help="only the first COUNT test photos")
    parser.add_argument("--artifact", type=Path, help="a saved artifact (myntra.py)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    data = ten_categories(args.root)
    test = [data.samples[i] for i in stratified_split(data.labels(), seed=0)["test"]]
    test = test[: args.count]
    if args.artifact:
        artifact = artifact_from_bytes(args.artifact.read_bytes(), sha256=None)
    else:
        artifact = default_artifact(list(TAXONOMY_IMAGENET_CLASSES))
    network = Classifier(artifact).network
    batches = [network.transform(sample.open()).unsqueeze(0) for sample in test]

    def eager(batch):
        with torch.inference_mode():
            embedding = network.features(batch)
            return embedding, network.head(embedding)

    sample = torch.cat(batches[:2])
    runners = {
        "pytorch": eager,
        "onnxruntime": OnnxSession(export_onnx(network, sample), threads=1),
    }
    if (openvino := openvino_runner(network, sample)) is not None:
        runners["openvino"] = openvino

    times = {name: [] for name in runners}
    outputs = {}
    for run in runners.values():
        run(batches[0])  # warm up
    for _ in range(args.rounds):
        for name, run in runners.items():
            started = cpu_seconds()
            outputs[name] = [run(batch)[1] for batch in batches]
            times[name].append((cpu_seconds() - started) / len(batches) * 1000)
    reference = torch.cat(outputs["pytorch"])
    report = {"photos": len(batches), "rounds": args.rounds}
    for name in runners:
        probabilities = torch.cat(outputs[name])
        report[name] = {
            "cpu_ms_per_photo": round(statistics.median(times[name]), 2),
            "cpu_ms_rounds": [round(t, 2) for t in times[name]],
            "top1_agreement": float(
                (probabilities.argmax(1) == reference.argmax(1)).float().mean()
            ),
            "max_probability_difference": float(
                np.abs((probabilities - reference).numpy()).max()
            ),
        }
        report[name]["ratio_to_pytorch"] = round(
            report["pytorch"]["cpu_ms_per_photo"] / report[name]["cpu_ms_per_photo"], 2
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

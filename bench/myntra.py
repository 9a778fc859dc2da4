"""Test accuracy on the 10 Myntra article types (a benchmark, not a test).

Usage::

    .venv/bin/python bench/myntra.py ../shared/datasets/fashion-products \\
        [--mode head|finetune] [--seed 0] [--epochs N] [--class-balanced] \\
        [--cache var/bench-cache] [--save FILE]

Lists the images of the ten article types from ``labels.csv``, splits them per
class into 70 % train, 15 % validation and 15 % test with the seed, trains on the
training part only (the validation part picks the early-stopping point, the
temperature and the review thresholds) and prints the accuracy on the test part,
which the model never saw. ``--cache`` keeps the backbone features of each image
between runs (head mode), keyed by the image's path.

The test accuracy is measured twice: by training's own evaluation, and again by
the product's ``Classifier`` built from the saved artifact, image by image from
the files, as a worker would classify them. ``--save FILE`` keeps the artifact.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.progress import progress_line
from classification.ml.artifacts import artifact_from_bytes, artifact_to_bytes
from classification.ml.data import csv_manifest, stratified_split, subset
from classification.ml.features import extract_features
from classification.ml.heads import HeadConfig
from classification.ml.inference import Classifier
from classification.ml.training import train_classifier

CATEGORIES = [
    "Casual Shoes",
    "Handbags",
    "Heels",
    "Kurtas",
    "Shirts",
    "Sports Shoes",
    "Sunglasses",
    "Tops",
    "Tshirts",
    "Watches",
]


def ten_categories(root: Path):
    """The photos of the ten article types, labelled by ``labels.csv``."""
    return subset(
        csv_manifest(
            root, root / "labels.csv", image_column="id", label_column="articleType"
        ),
        CATEGORIES,
    )


def cached_features(samples, classes, cache: Path | None) -> dict[int, np.ndarray]:
    """Return features for every readable sample, computing those not in ``cache``."""
    if cache is None:
        return {}
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / "myntra-lite0-features.npz"
    stored = dict(np.load(path)) if path.exists() else {}
    todo = [i for i, s in enumerate(samples) if Path(s.source).name not in stored]
    if todo:
        print(f"computing features of {len(todo)} images", file=sys.stderr)
        fs = extract_features([samples[i] for i in todo], classes)
        for j, row in zip(fs.kept, fs.features, strict=True):
            stored[Path(samples[todo[j]].source).name] = row
        np.savez(path, **stored)
    return {
        i: stored[Path(s.source).name]
        for i, s in enumerate(samples)
        if Path(s.source).name in stored
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the fashion-products folder")
    parser.add_argument("--mode", choices=["head", "finetune"], default="head")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument(
        "--class-balanced", action="store_true", help="class-balanced loss"
    )
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--save", type=Path, default=None, help="write the artifact")
    args = parser.parse_args()

    data = ten_categories(args.root)
    split = stratified_split(data.labels(), seed=args.seed)
    config = HeadConfig(mode=args.mode, class_balanced=args.class_balanced)
    if args.epochs:
        config.epochs = args.epochs
    cached = (
        cached_features(data.samples, data.classes, args.cache)
        if args.mode == "head"
        else {}
    )
    started = time.perf_counter()
    result = train_classifier(
        data.samples,
        data.classes,
        split,
        config=config,
        seed=args.seed,
        cached=cached,
        progress=progress_line(started),
    )
    print(file=sys.stderr)
    seconds = time.perf_counter() - started
    test = result.metrics["test"]
    data_bytes = artifact_to_bytes(result.artifact)
    if args.save:
        args.save.write_bytes(data_bytes)
    classifier = Classifier(artifact_from_bytes(data_bytes, sha256=None))
    test_samples = [data.samples[i] for i in split["test"]]
    predicted = [
        r.top_k[0][0]
        for start in range(0, len(test_samples), 32)
        for r in classifier.predict(
            [s.open() for s in test_samples[start : start + 32]]
        )
    ]  # the ten categories' photos all decode (training would skip any that fail)
    served = np.mean(
        [p == s.label for p, s in zip(predicted, test_samples, strict=True)]
    )
    print(
        json.dumps(
            {
                "benchmark": "myntra-10",
                "mode": args.mode,
                "class_balanced": args.class_balanced,
                "seed": args.seed,
                "images": {k: len(v) for k, v in split.items()},
                "test_accuracy": test["accuracy"],
                "test_accuracy_served": round(float(served), 4),
                "test_macro_f1": test["macro_f1"],
                "test_top2_accuracy": test["top2_accuracy"],
                "test_ece": test["ece"],
                "val_accuracy": result.metrics["val"]["accuracy"],
                "review_share_at_97": result.metrics["thresholds"]["review_share"],
                "temperature": result.metrics["temperature"],
                "training_seconds": round(seconds, 1),
                "features_cached": len(cached),
            }
        )
    )
    print(
        f"TEST ACCURACY {test['accuracy'] * 100:.2f}% ({test['count']} images); "
        f"{served * 100:.2f}% as served by the saved artifact"
    )


if __name__ == "__main__":
    main()

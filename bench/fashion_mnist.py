"""Fashion-MNIST test accuracy of the from-scratch CNN, and its training time.

Usage::

    .venv/bin/python bench/fashion_mnist.py ../shared/datasets/fashion-mnist \\
        [--seed 0] [--epochs 15] [--budget 780]

Trains ``classification.ml.fashion.FashionNet`` exactly as ``train_model
--fashion-mnist`` does (55,000 training images, 5,000 held out for calibration,
both cores) and prints the accuracy on the official 10,000 test images and the
training time. ``--budget`` (seconds, default 780) cuts the epochs to what this
machine can run in that time, measured before training starts; 0 turns it off.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.progress import progress_line
from classification.ml.fashion import FashionConfig
from classification.ml.fashion_data import fashion_mnist_prepare
from classification.ml.fashion_training import fashion_mnist_train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder with the four IDX files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=FashionConfig.epochs)
    parser.add_argument("--budget", type=float, default=780.0)
    args = parser.parse_args()

    config = FashionConfig(epochs=args.epochs, time_budget=args.budget or None)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="fmnist-bench-") as root:
        fashion_mnist_prepare(args.source, root)
        started = time.perf_counter()
        cpu_started = time.process_time()
        result = fashion_mnist_train(
            root, config=config, seed=args.seed, progress=progress_line(started)
        )
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    print(file=sys.stderr)
    test = result.metrics["test"]
    print(
        json.dumps(
            {
                "benchmark": "fashion-mnist",
                "seed": args.seed,
                "epochs": result.config.epochs,
                "widths": list(result.config.widths),
                "train_images": result.split["counts"]["train"],
                "test_images": test["count"],
                "test_accuracy": test["accuracy"],
                "test_macro_f1": test["macro_f1"],
                "test_ece": test["ece"],
                "temperature": result.metrics["temperature"],
                "training_seconds": round(result.training_seconds, 1),
                "total_seconds": round(total, 1),
                # CPU time over both threads: what the run cost, whatever else
                # shared the cores (wall time grows when other work does).
                "cpu_seconds": round(cpu, 1),
                "load_average_after": round(os.getloadavg()[0], 2),
                "threads": 2,
                "load_average_before": round(load_before, 2),
                "history": result.history,
            }
        )
    )
    print(
        f"TEST ACCURACY {test['accuracy'] * 100:.2f}% on {test['count']} images; "
        f"trained in {result.training_seconds / 60:.1f} min "
        f"({result.config.epochs} epochs) on 2 threads"
    )


if __name__ == "__main__":
    main()

"""Seconds to train a head on 5,000 cached 1280-d feature vectors.

Usage::

    .venv/bin/python bench/head_speed.py [--count 5000] [--classes 10]

The features are synthetic (class centres plus noise, the backbone's width and
non-negativity), because the figure is the head's training time, which depends
on the sizes only; the head runs its full step budget when early stopping does
not cut it short.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classification.ml.backbone import EMBEDDING_DIM
from classification.ml.heads import HeadConfig, train_linear_head


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    centres = rng.gamma(1.0, 0.5, (args.classes, EMBEDDING_DIM))
    y = rng.integers(0, args.classes, args.count)
    x = np.maximum(centres[y] + rng.normal(0, 0.8, (args.count, EMBEDDING_DIM)), 0)
    x = x.astype(np.float32)
    n_val = args.count // 6
    started = time.perf_counter()
    _, _, history = train_linear_head(
        x[n_val:],
        y[n_val:],
        x[:n_val],
        y[:n_val],
        n_classes=args.classes,
        config=HeadConfig(),
        seed=args.seed,
    )
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "benchmark": "head-speed",
                "vectors": args.count,
                "dim": EMBEDDING_DIM,
                "classes": args.classes,
                "steps": history[-1]["step"],
                "val_accuracy": history[-1].get("val_accuracy"),
                "seconds": round(seconds, 2),
            }
        )
    )
    print(f"HEAD TRAINED on {args.count} vectors in {seconds:.2f} s")


if __name__ == "__main__":
    main()

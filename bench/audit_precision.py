"""Does the audit estimate recover a known precision?

Generates auto-accepted predictions with a known error rate per category, draws
the audit samples with the platform's own draw (``services.audit``), lets a
perfect reviewer decide each audited one, and prints the audit estimate with its
95 % Wilson interval (``classification.evidence``) beside the true precision.
Also counts, over many seeds, how often the interval holds the truth (about 95 %
is right). No database or network: the draw and the interval are plain code.

    .venv/bin/python bench/audit_precision.py [--predictions 40000] [--rate 0.03]
"""

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

CATEGORIES = {"apparel": 0.96, "footwear": 0.90, "kitchen-drinkware": 0.80}


def run(*, predictions: int, rate: float, seed: int, version: int) -> dict:
    from classification.proportions import wilson_interval
    from classification.services.audit import prediction_drawn_for_audit

    rng = random.Random(seed)
    per = {slug: [0, 0, 0] for slug in CATEGORIES}  # predictions, audited, right
    slugs = list(CATEGORIES)
    for image_id in range(1, predictions + 1):
        slug = slugs[image_id % len(slugs)]
        right = rng.random() < CATEGORIES[slug]
        row = per[slug]
        row[0] += 1
        if prediction_drawn_for_audit(
            image_id=image_id, model_version_id=version, category_slug=slug
        ):
            row[1] += 1
            row[2] += right
    return {
        slug: (n, audited, right, wilson_interval(right, audited))
        for slug, (n, audited, right) in per.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=int, default=40_000)
    parser.add_argument("--rate", type=float, default=0.03)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    settings.configure(
        SECRET_KEY="bench-audit-precision",
        INSTALLED_APPS=[],
        VITRINE_AUDIT_RATE=args.rate,
        VITRINE_AUDIT_RATE_PER_CATEGORY={},
    )
    django.setup()
    print(f"{args.predictions} auto-accepted predictions, audit share {args.rate}")
    print(
        "category            true   predictions audited  share  estimate  95 % interval"
    )
    for slug, (n, audited, right, (low, high)) in run(
        predictions=args.predictions, rate=args.rate, seed=0, version=1
    ).items():
        print(
            f"{slug:<18}  {CATEGORIES[slug]:.3f}  {n:>11} {audited:>7}  "
            f"{audited / n:.4f}  {right / audited:.4f}    {low:.4f}–{high:.4f}"
        )
    held = total = 0
    for repeat in range(args.repeats):
        result = run(
            predictions=args.predictions // 4,
            rate=args.rate,
            seed=repeat + 1,
            version=repeat + 2,
        )
        for slug, (_, _, _, (low, high)) in result.items():
            total += 1
            held += low <= CATEGORIES[slug] <= high
    print(
        f"over {args.repeats} runs of {args.predictions // 4} predictions: the "
        f"interval held the true precision {held} times of {total} "
        f"({held / total:.1%})"
    )


if __name__ == "__main__":
    main()

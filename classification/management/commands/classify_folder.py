"""Classify every image of a folder with the active version; write a CSV report.

Meant for cron: it never stops on a bad file, writes its outputs atomically and
its exit status says whether the run is fit to use (see --max-failure-rate).
"""

import csv
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from classification.management.commands.evaluate_model import (
    VersionOptionMixin,
    version_from_option,
)
from classification.services.folders import folder_classify, folder_images

# Exit status when more images failed than --max-failure-rate allows.
EXIT_TOO_MANY_FAILURES = 3
FAILED_FOLDER = "_failed"


def _write_atomic(target: Path, write) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as stream:
        write(stream)
    partial.replace(target)


def _copy_into(source: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    n = 1
    while target.exists():
        if target.stat().st_size == source.stat().st_size and (
            target.read_bytes() == source.read_bytes()
        ):
            return  # copied by an earlier run
        n += 1
        target = folder / f"{source.stem}-{n}{source.suffix}"
    shutil.copy2(source, target)


class Command(VersionOptionMixin, BaseCommand):
    help = (
        "Classify the images under DIR with the active model version and write one "
        "CSV row per image (label, confidence, top 3, or the failure and its "
        "reason). Exit status: 0 done, 1 bad arguments, 3 when the share of "
        "failed images is above --max-failure-rate."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", metavar="DIR")
        parser.add_argument("--csv", required=True, metavar="OUT.csv")
        parser.add_argument("--json", metavar="SUMMARY.json")
        parser.add_argument(
            "--sort-into",
            metavar="DIR",
            help="copy each image into DIR/<category>/ (failures into _failed/)",
        )
        parser.add_argument("--max-failure-rate", type=float, default=0.05)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        root = Path(options["folder"])
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder.")
        if not 0 <= options["max_failure_rate"] <= 1:
            raise CommandError("--max-failure-rate must be between 0 and 1.")
        version = version_from_option(options["version"])
        started = time.perf_counter()
        paths, others = folder_images(root)
        bar = None
        if not options["no_progress"] and paths:
            from tqdm import tqdm

            bar = tqdm(total=len(paths), file=self.stderr._out, unit="img")
        results = list(
            folder_classify(
                paths=paths, version=version, progress=bar.update if bar else None
            )
        )
        if bar is not None:
            bar.close()
        per_category = Counter(r.top_k[0][0] for r in results if r.ok)
        failed = [r for r in results if not r.ok]

        def write_csv(stream):
            writer = csv.writer(stream)
            writer.writerow(["path", "status", "label", "confidence", "top3", "error"])
            for r in results:
                relative = r.path.relative_to(root).as_posix()
                if r.ok:
                    label, confidence = r.top_k[0]
                    top3 = ";".join(f"{slug}:{p:.4f}" for slug, p in r.top_k)
                    writer.writerow(
                        [relative, "ok", label, f"{confidence:.4f}", top3, ""]
                    )
                else:
                    writer.writerow([relative, "failed", "", "", "", r.error])

        _write_atomic(Path(options["csv"]), write_csv)
        if options["sort_into"]:
            target = Path(options["sort_into"])
            for r in results:
                _copy_into(r.path, target / (r.top_k[0][0] if r.ok else FAILED_FOLDER))
        total = len(results)
        rate = len(failed) / total if total else 0.0
        summary = {
            "version_id": version.pk,
            "version": version.name,
            "folder": str(root.resolve()),
            "total": total,
            "classified": total - len(failed),
            "failed": len(failed),
            "failure_rate": round(rate, 4),
            "ignored_files": len(others),
            "per_category": dict(sorted(per_category.items())),
            "failures": [
                {"path": r.path.relative_to(root).as_posix(), "reason": r.error}
                for r in failed[:100]
            ],
            "seconds": round(time.perf_counter() - started, 2),
        }
        if options["json"]:
            _write_atomic(
                Path(options["json"]),
                lambda s: s.write(json.dumps(summary, indent=2) + "\n"),
            )
        self.stdout.write(
            f"{total - len(failed)} of {total} images classified with {version.name}; "
            f"{len(failed)} failed ({rate:.1%})."
        )
        self.stdout.write(json.dumps(summary, separators=(",", ":")))
        if rate > options["max_failure_rate"]:
            self.stderr.write(
                f"Failure rate {rate:.1%} is above {options['max_failure_rate']:.1%}."
            )
            sys.exit(EXIT_TOO_MANY_FAILURES)

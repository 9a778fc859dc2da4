"""Train a model version from labelled images; print its metrics as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError

from classification.services.training import TrainingError
from classification.services.training.run import model_train


class Command(BaseCommand):
    help = (
        "Train a classifier (a new model version, not active unless --activate). "
        "Progress goes to stderr; the last line of stdout is a JSON summary."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--data",
            metavar="DIR",
            help="ImageFolder layout (one sub-folder per category), or with "
            "--labels the folder of the images a CSV file names",
        )
        source.add_argument(
            "--fashion-mnist",
            metavar="DIR",
            help="a folder with Fashion-MNIST's four IDX files (.gz or not)",
        )
        source.add_argument(
            "--from-catalog",
            action="store_true",
            help="images a reviewer confirmed or corrected, or whose category "
            "the merchant set",
        )
        parser.add_argument("--val-data", metavar="DIR", help="validation folder")
        parser.add_argument("--labels", metavar="FILE", help="CSV manifest")
        parser.add_argument("--image-column", metavar="C")
        parser.add_argument("--label-column", metavar="C")
        parser.add_argument("--name", help="version name (default: source and time)")
        parser.add_argument("--mode", choices=["head", "finetune"], default="head")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--epochs", type=int)
        parser.add_argument(
            "--target-precision",
            type=float,
            default=0.97,
            help="precision the per-category auto-accept thresholds aim for",
        )
        parser.add_argument(
            "--class-balanced",
            action="store_true",
            help="weigh each category by the inverse of its share of the training "
            "images (raises rare categories' recall)",
        )
        parser.add_argument(
            "--create-categories",
            action="store_true",
            help="create categories for unknown labels (default: refuse them)",
        )
        parser.add_argument("--activate", action="store_true")
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar on stderr"
        )

    def handle(self, *args, **options):
        params = self._params(options)
        bar = None

        def progress(fraction: float, message: str) -> None:
            # Drawn on the first report, so bad input fails without an empty bar.
            nonlocal bar
            if options["no_progress"]:
                return
            if bar is None:
                from tqdm import tqdm

                bar = tqdm(
                    total=1000,
                    file=self.stderr._out,
                    unit="‰",
                    bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
                )
            bar.update(max(round(fraction * 1000) - bar.n, 0))
            bar.set_postfix_str(message[:60], refresh=False)

        try:
            version = model_train(params=params, user=None, progress=progress)
        except (TrainingError, ValueError, OSError) as error:
            raise CommandError(str(error)) from error
        finally:
            if bar is not None:
                bar.close()
        metrics = version.metrics
        summary = {
            "version_id": version.pk,
            "name": version.name,
            "status": version.status,
            "classes": version.classes,
            "accuracy": metrics.get("accuracy"),
            "macro_f1": metrics.get("macro_f1"),
            "top2_accuracy": metrics.get("top2_accuracy"),
            "ece": metrics.get("ece"),
            "measured_on": metrics.get("measured_on"),
            "temperature": metrics.get("temperature"),
            "review_share": metrics.get("thresholds", {}).get("review_share"),
            "skipped": metrics.get("skipped", {}).get("count", 0),
            "split": version.training.get("split", {}).get("counts"),
            "training_seconds": version.training.get("training_seconds"),
            "metrics": {
                key: metrics[key]
                for key in ("test", "val", "calibration", "thresholds")
                if key in metrics
            },
        }
        self.stdout.write(
            f"Registered {version.name} (id {version.pk}): accuracy "
            f"{summary['accuracy']} on {summary['measured_on']}, "
            f"{summary['skipped']} images skipped."
        )
        self.stdout.write(json.dumps(summary, separators=(",", ":")))

    def _params(self, options) -> dict:
        if options["labels"] and not options["data"]:
            raise CommandError("--labels goes with --data DIR")
        if options["labels"] and not (
            options["image_column"] and options["label_column"]
        ):
            raise CommandError("--labels needs --image-column and --label-column")
        if options["val_data"] and (not options["data"] or options["labels"]):
            raise CommandError("--val-data goes with --data DIR (ImageFolder)")
        if options["from_catalog"]:
            params = {"source": "catalog"}
        elif options["fashion_mnist"]:
            params = {"source": "fashion_mnist", "data": options["fashion_mnist"]}
        elif options["labels"]:
            params = {
                "source": "csv",
                "data": options["data"],
                "labels": options["labels"],
                "image_column": options["image_column"],
                "label_column": options["label_column"],
            }
        else:
            params = {"source": "folder", "data": options["data"]}
            if options["val_data"]:
                params["val_data"] = options["val_data"]
        params.update(
            {
                "mode": options["mode"],
                "seed": options["seed"],
                "create_categories": options["create_categories"],
                "activate": options["activate"],
                "target_precision": options["target_precision"],
                "class_balanced": options["class_balanced"],
            }
        )
        for key in ("name", "epochs"):
            if options[key] is not None:
                params[key] = options[key]
        return params

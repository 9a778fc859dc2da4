"""Measure a model version on a labelled folder (the active one by default)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from classification.ml.data import DataError
from classification.models import ModelVersion
from classification.services.evaluation import model_version_evaluate
from classification.services.versions import model_version_ensure_default


class VersionOptionMixin:
    """Let a command take ``--version ID``, read with ``version_from_option``
    (Django's own --version prints its own version number; these commands have no
    use for it)."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("conflict_handler", "resolve")
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("--version", help="version id or name (default: active)")
        return parser


def version_from_option(value: str | None) -> ModelVersion:
    """The version named by id or name, or the active one."""
    if value is None:
        return model_version_ensure_default()
    lookup = {"pk": int(value)} if value.isdigit() else {"name": value}
    version = ModelVersion.objects.filter(**lookup).first()
    if version is None:
        raise CommandError(f"No model version {value!r}.")
    return version


class Command(VersionOptionMixin, BaseCommand):
    help = (
        "Classify an ImageFolder (one sub-folder per category) and report accuracy, "
        "macro-F1, per-class precision/recall/F1, the confusion matrix, top-2 "
        "accuracy and calibration error. The last line of stdout is the JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", required=True, metavar="DIR")
        parser.add_argument("--json", metavar="FILE", help="also write the JSON here")
        parser.add_argument(
            "--save", action="store_true", help="keep the result in the version"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        version = version_from_option(options["version"])
        bar = None
        if not options["no_progress"]:
            from tqdm import tqdm

            bar = tqdm(total=1000, file=self.stderr._out, unit="‰")

        def progress(fraction: float, message: str) -> None:
            if bar is not None:
                bar.update(max(round(fraction * 1000) - bar.n, 0))
                bar.set_postfix_str(message, refresh=False)

        try:
            metrics = model_version_evaluate(
                version=version,
                data_dir=options["data"],
                save=options["save"],
                progress=progress,
            )
        except DataError as error:
            raise CommandError(str(error)) from error
        finally:
            if bar is not None:
                bar.close()
        if metrics["count"] == 0:
            raise CommandError(
                "No image of a category this version knows could be read in "
                f"{options['data']}."
            )
        text = json.dumps(metrics, separators=(",", ":"))
        if options["json"]:
            target = Path(options["json"])
            partial = target.with_name(target.name + ".partial")
            partial.write_text(json.dumps(metrics, indent=2) + "\n")
            partial.replace(target)
        self.stdout.write(
            f"{version.name}: accuracy {metrics['accuracy']:.4f}, macro-F1 "
            f"{metrics['macro_f1']:.4f} on {metrics['count']} images "
            f"({metrics['skipped']['count']} skipped, "
            f"{metrics['unknown_class_images']} of unknown categories)."
        )
        self.stdout.write(text)

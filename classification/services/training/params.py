"""What a training is asked to do: ``TrainingParams``, checked in one place.

The ``train_model`` command, the admin's form, the API and a stored job all
hand over a plain mapping (JSON for the API and the job); ``from_input`` is the
one constructor that checks it and fills in the defaults, and ``as_dict`` is
what a job stores and reads back.

Labels become categories by slug (``slugify(label)``) or by name; unknown ones
are created when ``create_categories`` is true and refused otherwise, before
any training starts. The model's classes are category slugs, as predictions
expect.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, get_args

from classification.models import ModelVersion
from classification.services.training import TrainingError

Source = Literal["catalog", "folder", "csv", "fashion_mnist"]
Mode = Literal["head", "finetune"]
SOURCES: tuple[str, ...] = get_args(Source)
MODES: tuple[str, ...] = get_args(Mode)
# Bounds of the integer parameters: a seed is 32 bits for NumPy, and epochs
# beyond this many would hold a training worker until its time limit.
MAX_SEED = 2**32 - 1
MAX_EPOCHS = 1000

_FLAGS = ("create_categories", "activate", "class_balanced")
_TEXTS = ("data", "val_data", "labels", "image_column", "label_column", "name")


@dataclass(frozen=True, kw_only=True)
class TrainingParams:
    """A checked training request; build it with ``from_input``."""

    source: Source = "catalog"
    data: str | None = None  # folder, csv and fashion_mnist: a folder
    val_data: str | None = None  # folder source, optional: a validation folder
    labels: str | None = None  # csv: the manifest file
    image_column: str | None = None  # csv
    label_column: str | None = None  # csv
    name: str | None = None  # default: the source and the time
    mode: Mode = "head"
    seed: int = 0
    epochs: int | None = None  # default: the architecture's own
    create_categories: bool = False
    activate: bool = False
    target_precision: float = 0.97  # what auto-accept thresholds aim for
    class_balanced: bool = False  # weigh classes by inverse frequency

    @classmethod
    def from_input(cls, params: Any) -> "TrainingParams":
        """Check ``params`` and fill in defaults; raise TrainingError if invalid.

        A null seed, epochs or text (JSON's null from the API) stands for one
        not given; a null flag, source, mode or target precision is refused.
        """
        if not isinstance(params, Mapping):
            raise TrainingError("params must be an object")
        unknown = set(params) - {f.name for f in fields(cls)}
        if unknown:
            raise TrainingError(f"unknown parameters: {', '.join(sorted(unknown))}")
        defaults = cls()
        clean: dict[str, Any] = {}
        for key in _FLAGS:
            clean[key] = params.get(key, getattr(defaults, key))
            # JSON from the API: the string "false" must not mean yes.
            if not isinstance(clean[key], bool):
                raise TrainingError(f"{key} must be true or false", param=key)
        clean["source"] = source = params.get("source", defaults.source)
        if source not in SOURCES:
            raise TrainingError(
                f"source must be one of {', '.join(SOURCES)}", param="source"
            )
        clean["mode"] = params.get("mode", defaults.mode)
        if clean["mode"] not in MODES:
            raise TrainingError(f"mode must be one of {', '.join(MODES)}", param="mode")
        for key in ("seed", "epochs"):
            value = params.get(key)
            if value is None:
                value = getattr(defaults, key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TrainingError(f"{key} must be a non-negative integer", param=key)
            clean[key] = value
        if clean.get("epochs") == 0:
            raise TrainingError("epochs must be at least 1", param="epochs")
        if clean.get("epochs", 0) > MAX_EPOCHS:
            raise TrainingError(f"epochs must be at most {MAX_EPOCHS}", param="epochs")
        if clean["seed"] > MAX_SEED:
            raise TrainingError(f"seed must be at most {MAX_SEED}", param="seed")
        clean["target_precision"] = target = params.get(
            "target_precision", defaults.target_precision
        )
        if not isinstance(target, int | float) or not 0.5 <= target < 1:
            raise TrainingError(
                "target_precision must be between 0.5 and 1", param="target_precision"
            )
        for key in _TEXTS:
            value = params.get(key)
            if value not in (None, ""):
                if not isinstance(value, str):
                    raise TrainingError(f"{key} must be a string", param=key)
                if "\x00" in value:
                    raise TrainingError(
                        f"{key} must not contain NUL characters", param=key
                    )
                clean[key] = value.strip()
        if source != "catalog" and not clean.get("data"):
            raise TrainingError(
                f"a {source} training needs data (a folder)", param="data"
            )
        if source == "csv":
            for key in ("labels", "image_column", "label_column"):
                if not clean.get(key):
                    raise TrainingError(f"a csv training needs {key}", param=key)
        if clean.get("val_data") and source != "folder":
            raise TrainingError("val_data goes with a folder source", param="val_data")
        if source == "fashion_mnist" and clean["mode"] == "finetune":
            raise TrainingError(
                "Fashion-MNIST trains its own network; mode must be head",
                param="mode",
            )
        name = clean.get("name")
        if name and ModelVersion.objects.filter(name=name).exists():
            raise TrainingError(
                f"a model version named {name!r} exists already", param="name"
            )
        return cls(**clean)

    def as_dict(self) -> dict[str, Any]:
        """The parameters as JSON, without those not given."""
        return {key: value for key, value in asdict(self).items() if value is not None}

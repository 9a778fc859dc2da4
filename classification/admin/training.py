"""The admin's "Train a new version" form: the fields of the chosen source
only (static/js/training_form.js hides the others; without script all show),
human labels, each error beside its field, and a preview of the data before
the training starts (service: ``training_preview``)."""

from django import forms

from classification.services.training import TrainingError
from classification.services.training.params import MODES, SOURCES

SOURCE_LABELS = {
    "catalog": "Reviewed catalog photos",
    "folder": "A folder with one sub-folder per category",
    "csv": "A folder of photos and a CSV file naming their categories",
    "fashion_mnist": "Fashion-MNIST's four IDX files",
}
MODE_LABELS = {
    "head": "Train the classifier on the pretrained features (seconds)",
    "finetune": "Also fine-tune the last blocks (minutes; the most accurate)",
}
# The sources each field belongs to; a field not named here goes with all.
FIELD_SOURCES = {
    "data": ("folder", "csv", "fashion_mnist"),
    "val_data": ("folder",),
    "labels": ("csv",),
    "image_column": ("csv",),
    "label_column": ("csv",),
    "mode": ("catalog", "folder", "csv"),
}
assert set(SOURCE_LABELS) == set(SOURCES) and set(MODE_LABELS) == set(MODES)


class TrainingForm(forms.Form):
    source = forms.ChoiceField(
        label="Training data",
        choices=list(SOURCE_LABELS.items()),
        initial="catalog",
        widget=forms.RadioSelect,
        help_text="Catalog: photos whose category a reviewer decided or the "
        "merchant set.",
    )
    data = forms.CharField(
        label="Data folder",
        required=False,
        help_text="Inside the training data folder. A folder source: one "
        "sub-folder per category; CSV: the folder the file names start from; "
        "Fashion-MNIST: the folder holding the four files.",
    )
    val_data = forms.CharField(
        label="Validation folder",
        required=False,
        help_text="Optional: one sub-folder per category, kept apart from training.",
    )
    labels = forms.CharField(label="CSV file", required=False)
    image_column = forms.CharField(
        label="Column with the photo's file name", required=False
    )
    label_column = forms.CharField(label="Column with the category", required=False)
    name = forms.CharField(
        label="Version name",
        required=False,
        max_length=120,
        help_text="Default: the source and the time.",
    )
    mode = forms.ChoiceField(
        label="Training", choices=list(MODE_LABELS.items()), initial="head"
    )
    seed = forms.IntegerField(label="Random seed", min_value=0, initial=0)
    epochs = forms.IntegerField(
        label="Epochs",
        min_value=1,
        required=False,
        help_text="Default: the training's own (early stopping decides).",
    )
    target_precision = forms.FloatField(
        label="Precision auto-accept aims for",
        min_value=0.5,
        max_value=0.999,
        initial=0.97,
        help_text="Each category's threshold is chosen to reach it on validation.",
    )
    class_balanced = forms.BooleanField(
        label="Balance the categories",
        required=False,
        help_text="Weigh each category by the inverse of its share of the "
        "training photos: rare categories are found more often, at some cost "
        "in overall accuracy.",
    )
    create_categories = forms.BooleanField(
        label="Create unknown categories",
        required=False,
        help_text="Labels that name no category become new categories.",
    )
    activate = forms.BooleanField(label="Activate when done", required=False)

    def rows(self):
        """(bound field, the sources it belongs to, space-separated)."""
        for bound in self:
            yield bound, " ".join(FIELD_SOURCES.get(bound.name, SOURCES))

    def params(self) -> dict:
        """The training parameters, without those left empty or not for the
        chosen source (a hidden field keeps what was typed in it)."""
        source = self.cleaned_data["source"]
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if value not in (None, "") and source in FIELD_SOURCES.get(key, SOURCES)
        }

    def add_training_error(self, error: TrainingError) -> None:
        """Show the service's refusal beside the field it is about."""
        field = error.param if error.param in self.fields else None
        self.add_error(field, error.message)

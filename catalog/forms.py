from django import forms
from django.conf import settings

from catalog.models import Category, CategorySource, ImageStatus, Product
from catalog.selectors import PRODUCT_TABLE_SORTS, UNCATEGORISED

# The source filter's value for products whose category nobody set.
NO_SOURCE = "none"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Any number of files; each is checked by the upload service, not here."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"accept": "image/*", "multiple": True})

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleImageField, self).clean(f, initial) for f in files if f]


class ProductForm(forms.ModelForm):
    images = MultipleImageField(
        label="Photos",
        help_text="JPEG, PNG, WebP, GIF or HEIC; drop several at once.",
    )

    class Meta:
        model = Product
        fields = ["sku", "name", "description", "price", "category"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        labels = {"sku": "SKU", "name": "Product name"}
        help_texts = {"sku": "Your own reference for the product; unique in your shop."}

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        self.fields["category"].queryset = Category.objects.order_by("name")
        self.fields["category"].required = False
        self.fields[
            "category"
        ].help_text = "Leave empty to let Vitrine choose from the photos."
        self.fields["category"].empty_label = "Let Vitrine choose"
        self.fields["price"].label = f"Price ({settings.VITRINE_CURRENCY})"
        # The file input sits in its drop zone, named by the zone's own label.
        self.fields["images"].widget.attrs["class"] = "visually-hidden"

    def clean_sku(self):
        sku = self.cleaned_data["sku"].strip()
        clash = Product.objects.filter(merchant=self.merchant, sku=sku)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("You already have a product with this SKU.")
        return sku


class ProductTableForm(forms.Form):
    """The catalog table's query: search, filters and sort, from the URL."""

    q = forms.CharField(required=False, label="Search", max_length=200)
    category = forms.ChoiceField(required=False, label="Category")
    status = forms.ChoiceField(required=False, label="Photo status")
    source = forms.ChoiceField(required=False, label="Category set by")
    sort = forms.ChoiceField(required=False)

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = {c.slug: c for c in categories}
        self.fields["category"].choices = [
            ("", "Any category"),
            (UNCATEGORISED, "Uncategorised"),
            *((c.slug, c.name) for c in categories),
        ]
        self.fields["status"].choices = [("", "Any photo status"), *ImageStatus.choices]
        self.fields["source"].choices = [
            ("", "Set by anyone"),
            (NO_SOURCE, "Not set yet"),
            *CategorySource.choices,
        ]
        self.fields["sort"].choices = [
            (f"{sign}{key}", key) for key in PRODUCT_TABLE_SORTS for sign in ("", "-")
        ]

    def query(self) -> dict:
        """Keyword arguments of selectors.product_table (valid fields only)."""
        self.is_valid()  # a bad value is shown beside its filter and left out
        data = self.cleaned_data
        category = data.get("category") or None
        if category and category != UNCATEGORISED:
            category = self.categories[category]
        source = data.get("source") or None
        return {
            "search": (data.get("q") or "").strip(),
            "category": category,
            "status": data.get("status") or "",
            "source": "" if source == NO_SOURCE else source,
            "sort": data.get("sort") or "-created",
        }


class ProductBulkForm(forms.Form):
    """An action on the products selected in the catalog table."""

    ACTIONS = [
        ("set_category", "Set category"),
        ("export", "Export CSV"),
        ("delete", "Delete"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    products = forms.TypedMultipleChoiceField(coerce=int, label="Products")
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(),
        to_field_name="slug",
        required=False,
        label="New category",
    )
    confirm = forms.BooleanField(required=False)

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.order_by("name")
        raw = self.data.getlist("products") if hasattr(self.data, "getlist") else []
        ids = [int(v) for v in raw if str(v).isdigit()]
        self.fields["products"].choices = [
            (pk, pk)
            for pk in Product.objects.filter(merchant=merchant, pk__in=ids).values_list(
                "pk", flat=True
            )
        ]
        self.fields["products"].error_messages["required"] = (
            "Select at least one product."
        )
        self.fields["products"].error_messages["invalid_choice"] = (
            "One of the selected products does not exist any more; reload the page."
        )

    def clean(self):
        data = super().clean()
        if data.get("action") == "set_category" and not data.get("category"):
            self.add_error("category", "Choose the category to set.")
        return data

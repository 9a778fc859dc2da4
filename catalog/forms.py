from django import forms

from catalog.models import Category, Product


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

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        self.fields["category"].queryset = Category.objects.order_by("name")
        self.fields["category"].required = False
        self.fields[
            "category"
        ].help_text = "Leave empty to let Vitrine choose from the photos."

    def clean_sku(self):
        sku = self.cleaned_data["sku"].strip()
        clash = Product.objects.filter(merchant=self.merchant, sku=sku)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("You already have a product with this SKU.")
        return sku

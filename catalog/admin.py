from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from catalog.models import Category, Product, ProductImage, ThresholdChange
from catalog.services import category_thresholds_set


def thumbnail_html(image: ProductImage | None, size: int = 64, alt: str = "") -> str:
    """A photo's thumbnail; ``alt`` names it where it is a link's only content."""
    if image is None or not image.pk:
        return "—"
    url = reverse("catalog:image-thumbnail", args=[image.pk])
    return format_html(
        '<img class="vitrine-thumb" src="{}" width="{}" height="{}" alt="{}">',
        url,
        size,
        size,
        alt,
    )


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "auto_accept_threshold"]
    list_editable = ["auto_accept_threshold"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        # A threshold edited here (in the list or the form) is recorded too.
        threshold = obj.auto_accept_threshold
        if change and "auto_accept_threshold" in form.changed_data:
            obj.auto_accept_threshold = form.initial["auto_accept_threshold"]
        super().save_model(request, obj, form, change)
        if change:
            category_thresholds_set(
                thresholds={obj: threshold},
                user=request.user,
                reason="edited by hand in the admin",
            )


@admin.register(ThresholdChange)
class ThresholdChangeAdmin(admin.ModelAdmin):
    """The record of every auto-accept threshold change; read only."""

    list_display = [
        "category",
        "old_threshold",
        "new_threshold",
        "changed_by",
        "created_at",
        "reason",
    ]
    list_filter = ["category"]
    list_select_related = ["category", "changed_by"]
    search_fields = ["category__name", "category__slug", "reason"]
    date_hierarchy = "created_at"
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ["preview", "status", "format", "width", "height", "sha256", "created_at"]
    readonly_fields = fields
    can_delete = True
    show_change_link = True

    @admin.display(description="Photo")
    def preview(self, obj):
        return thumbnail_html(obj)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "sku",
        "merchant",
        "category",
        "category_source",
        "created_at",
    ]
    list_filter = ["category_source", "category", "merchant"]
    list_select_related = ["merchant", "category"]
    search_fields = ["name", "sku", "merchant__name"]
    autocomplete_fields = ["merchant", "category"]
    inlines = [ProductImageInline]
    date_hierarchy = "created_at"


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    list_display = ["preview", "product", "merchant", "status", "format", "created_at"]
    list_filter = ["status", "format", "merchant"]
    list_select_related = ["product", "merchant"]
    search_fields = ["product__name", "product__sku", "sha256", "original_name"]
    readonly_fields = [
        "preview_large",
        "file",
        "thumbnail",
        "sha256",
        "width",
        "height",
        "format",
        "byte_size",
        "original_name",
        "uploaded_by",
        "status_changed_at",
        "created_at",
    ]
    raw_id_fields = ["product", "merchant"]
    date_hierarchy = "created_at"

    @admin.display(description="Photo")
    def preview(self, obj):
        return thumbnail_html(obj)

    @admin.display(description="Photo")
    def preview_large(self, obj):
        return thumbnail_html(obj, size=320)

    def has_add_permission(self, request):
        # Photos arrive through the upload checks (pages, API), never raw.
        return False

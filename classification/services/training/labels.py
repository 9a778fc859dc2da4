"""Labels for training: the catalog's trusted ones, and label names mapped onto
the categories (by slug or by name) that a model's classes are."""

from django.utils.text import slugify

from catalog.models import Category, CategorySource, ImageStatus, ProductImage
from classification.models import Prediction, Review
from classification.services.training import TrainingError


def catalog_labels() -> dict[int, int]:
    """Map image id -> category id for every image with a trusted label.

    A reviewer's latest standing accept or correction of one of the image's
    predictions wins; otherwise the product's category counts when the merchant
    set it. A photo a reviewer found unusable is never a label.
    """
    labels: dict[int, int] = {}
    for product_category, image_id in (
        ProductImage.objects.filter(
            product__category_source=CategorySource.MERCHANT,
            product__category__isnull=False,
        )
        .exclude(status=ImageStatus.UNUSABLE)
        .values_list("product__category_id", "pk")
    ):
        labels[image_id] = product_category
    decided = Prediction.objects.filter(
        status__in=[Prediction.Status.ACCEPTED, Prediction.Status.CORRECTED]
    ).exclude(reviews__isnull=False)
    # A decided prediction without a Review row (written by an import): its
    # product's category is the decision.
    for image_id, category_id in (
        decided.filter(image__product__category__isnull=False)
        .exclude(image__status=ImageStatus.UNUSABLE)
        .values_list("image_id", "image__product__category_id")
    ):
        labels[image_id] = category_id
    reviews = (
        Review.objects.filter(
            decision__in=[Review.Decision.ACCEPTED, Review.Decision.CORRECTED]
        )
        .exclude(prediction__image__status=ImageStatus.UNUSABLE)
        .order_by("created_at", "pk")
        .values_list(
            "prediction__image_id", "final_category_id", "prediction__category_id"
        )
    )
    for image_id, final_id, predicted_id in reviews:
        category_id = final_id or predicted_id
        if category_id:
            labels[image_id] = category_id
    return labels


def labels_to_slugs(labels: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Map label names to category slugs: an existing category's slug when the
    label is its slug or its name (any case), else ``slugify(label)``.

    Return (label -> slug, slug -> name for new categories). Raise TrainingError
    when a label has no usable slug or two labels would share one.
    """
    by_name = {
        name.lower(): slug
        for slug, name in Category.objects.values_list("slug", "name")
    }
    by_slug = set(by_name.values())
    mapping, names = {}, {}
    for label in labels:
        if label in by_slug:
            slug = label
        elif label.lower() in by_name:
            slug = by_name[label.lower()]
        else:
            slug = slugify(label)
            if not slug:
                raise TrainingError(f"label {label!r} gives no usable category slug")
            names[slug] = label
        mapping[label] = slug
    clashes = {s for s in mapping.values() if list(mapping.values()).count(s) > 1}
    if clashes:
        raise TrainingError(
            "labels that name the same category: "
            + "; ".join(
                ", ".join(sorted(k for k, v in mapping.items() if v == s))
                for s in sorted(clashes)
            )
        )
    return mapping, names


def training_categories_resolve(
    *, slugs: list[str], names: dict[str, str], create: bool
) -> dict[str, tuple[str, bool]]:
    """Map each class slug to (category name, exists); refuse unknown ones
    unless ``create``, before any training spends minutes on them."""
    existing = set(
        Category.objects.filter(slug__in=slugs).values_list("slug", flat=True)
    )
    unknown = [slug for slug in slugs if slug not in existing]
    if unknown and not create:
        listed = ", ".join(names.get(s, s) for s in unknown)
        raise TrainingError(
            f"unknown categories: {listed}. Create them first, or allow creating "
            "them (--create-categories)."
        )
    return {slug: (names.get(slug, slug), slug in existing) for slug in slugs}

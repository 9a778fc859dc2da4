import pytest
import torch
from torchvision.models import EfficientNet_B0_Weights

from classification.ml.imagenet_map import (
    TAXONOMY_IMAGENET_CLASSES,
    imagenet_to_taxonomy_matrix,
)

DEFAULT_TAXONOMY = [
    "apparel",
    "footwear",
    "bags-luggage",
    "watches-jewelry",
    "eyewear",
    "kitchen-drinkware",
    "electronics",
    "home-furniture",
    "toys-games",
    "sports-outdoors",
    "beauty-personal-care",
    "tools-hardware",
    "books-office",
    "musical-instruments",
    "food-grocery",
    "garden-outdoor",
    "automotive",
    "baby-kids",
    "pet-supplies",
]
CATEGORIES = EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"]


def _slug_of(name: str) -> str | None:
    index = CATEGORIES.index(name)
    for slug, classes in TAXONOMY_IMAGENET_CLASSES.items():
        if index in classes:
            return slug
    return None


def test_covers_exactly_the_default_taxonomy():
    assert list(TAXONOMY_IMAGENET_CLASSES) == DEFAULT_TAXONOMY


@pytest.mark.parametrize("slug", DEFAULT_TAXONOMY)
def test_every_slug_has_classes(slug):
    assert TAXONOMY_IMAGENET_CLASSES[slug]


def test_no_class_is_in_two_slugs():
    indices = [i for classes in TAXONOMY_IMAGENET_CLASSES.values() for i in classes]
    assert len(indices) == len(set(indices))


def test_indices_are_imagenet_classes():
    for classes in TAXONOMY_IMAGENET_CLASSES.values():
        assert all(0 <= i < 1000 for i in classes)


def test_animals_stay_unmapped():
    # ImageNet's first 398 classes are animals, from tench to puffer.
    mapped = {i for classes in TAXONOMY_IMAGENET_CLASSES.values() for i in classes}
    assert not mapped & set(range(398))


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("espresso", "kitchen-drinkware"),
        ("cup", "kitchen-drinkware"),
        ("coffee mug", "kitchen-drinkware"),
        ("teapot", "kitchen-drinkware"),
        ("running shoe", "footwear"),
        ("backpack", "bags-luggage"),
        ("sunglasses", "eyewear"),
        ("laptop", "electronics"),
        ("teddy", "toys-games"),
        ("muzzle", "pet-supplies"),
        ("tabby", None),
        ("seashore", None),
        ("church", None),
    ],
)
def test_named_classes_land_where_expected(name, slug):
    assert _slug_of(name) == slug


@pytest.mark.parametrize(
    "name",
    [
        # The top class of many vests and tank tops.
        "bulletproof vest",
        "velvet",
        "chain mail",
        "vestment",
        "cuirass",
        "breastplate",
        "military uniform",
        # Knitwear and yarn, not an office supply.
        "wool",
    ],
)
def test_garment_classes_are_apparel(name):
    assert _slug_of(name) == "apparel"


def test_matrix_sums_each_slug_over_its_classes():
    slugs = ["footwear", "kitchen-drinkware"]
    matrix = imagenet_to_taxonomy_matrix(slugs)
    assert matrix.shape == (1000, 2)
    assert set(matrix.unique().tolist()) == {0.0, 1.0}
    for column, slug in enumerate(slugs):
        expected = torch.zeros(1000)
        expected[list(TAXONOMY_IMAGENET_CLASSES[slug])] = 1.0
        torch.testing.assert_close(matrix[:, column], expected)


def test_matrix_of_the_whole_taxonomy_counts_each_class_at_most_once():
    matrix = imagenet_to_taxonomy_matrix(DEFAULT_TAXONOMY)
    assert matrix.sum(dim=1).max() == 1


def test_matrix_refuses_an_unknown_slug():
    with pytest.raises(ValueError, match="stationery"):
        imagenet_to_taxonomy_matrix(["apparel", "stationery"])


def test_matrix_refuses_a_repeated_slug():
    with pytest.raises(ValueError, match="repeated"):
        imagenet_to_taxonomy_matrix(["apparel", "apparel"])

"""Load the default product taxonomy.

The slugs match the ImageNet mapping of the out-of-the-box model version, so a
new install classifies real photos before any training. Staff edit names and
thresholds in the admin; reversing this migration removes only unused rows.
"""

from django.db import migrations

DEFAULT_THRESHOLD = 0.6

TAXONOMY = [
    ("apparel", "Apparel", "Clothing: tops, dresses, trousers, coats, swimwear."),
    ("footwear", "Footwear", "Shoes, boots, sandals and slippers."),
    ("bags-luggage", "Bags & Luggage", "Handbags, backpacks, wallets, suitcases."),
    ("watches-jewelry", "Watches & Jewelry", "Watches, necklaces and other jewelry."),
    ("eyewear", "Eyewear", "Sunglasses and glasses."),
    (
        "kitchen-drinkware",
        "Kitchen & Drinkware",
        "Cookware, tableware, cups and drinks.",
    ),
    ("electronics", "Electronics", "Computers, phones, audio, cameras, appliances."),
    ("home-furniture", "Home & Furniture", "Furniture, lighting, decor and textiles."),
    ("toys-games", "Toys & Games", "Toys, puzzles and games."),
    ("sports-outdoors", "Sports & Outdoors", "Sports gear, fitness, camping."),
    ("beauty-personal-care", "Beauty & Personal Care", "Cosmetics, fragrance, care."),
    ("tools-hardware", "Tools & Hardware", "Hand and power tools, hardware."),
    ("books-office", "Books & Office", "Books, stationery and office supplies."),
    ("musical-instruments", "Musical Instruments", "Instruments and accessories."),
    ("food-grocery", "Food & Grocery", "Fresh and packaged food."),
    ("garden-outdoor", "Garden & Outdoor Living", "Garden tools, planters, grills."),
    ("automotive", "Automotive", "Vehicle parts and accessories."),
    ("baby-kids", "Baby & Kids", "Strollers, cribs and baby gear."),
    ("pet-supplies", "Pet Supplies", "Supplies for pets."),
]


def load(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    for slug, name, description in TAXONOMY:
        Category.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "auto_accept_threshold": DEFAULT_THRESHOLD,
            },
        )


def unload(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    Category.objects.filter(
        slug__in=[slug for slug, _, _ in TAXONOMY], products__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]

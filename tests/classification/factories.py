import factory

from catalog.models import ImageStatus, ProductImage
from tests.catalog.factories import ProductFactory


class ProductImageFactory(factory.django.DjangoModelFactory):
    """An image row whose file need not exist (for queue and dashboard data)."""

    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    merchant = factory.SelfAttribute("product.merchant")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    file = factory.LazyAttribute(lambda o: f"images/{o.sha256[:2]}/{o.sha256}.jpg")
    thumbnail = factory.LazyAttribute(
        lambda o: f"thumbnails/{o.sha256[:2]}/{o.sha256}.webp"
    )
    width = 640
    height = 480
    format = "JPEG"
    byte_size = 1000
    status = ImageStatus.PENDING

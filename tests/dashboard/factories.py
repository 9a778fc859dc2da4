"""Rows for dashboard data. created_at is auto_now_add on every model, so these
factories take it as an argument and set it after the insert."""

import factory

from catalog.models import ProductImage
from classification.models import ModelVersion, Prediction, Review
from tests.classification.factories import ProductImageFactory


class DatedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, created_at=None, **kwargs):
        obj = super()._create(model_class, *args, **kwargs)
        if created_at is not None:
            model_class.objects.filter(pk=obj.pk).update(created_at=created_at)
            obj.created_at = created_at
        return obj


class ModelVersionFactory(DatedFactory):
    class Meta:
        model = ModelVersion

    name = factory.Sequence(lambda n: f"model-v{n}")
    architecture = "efficientnet_lite0"
    classes = factory.LazyFunction(list)
    artifact = factory.Sequence(lambda n: f"models/v{n}.pt")
    checksum = "0" * 64
    status = ModelVersion.Status.READY


class ImageFactory(DatedFactory, ProductImageFactory):
    class Meta:
        model = ProductImage

    file = factory.LazyAttribute(lambda o: f"images/{o.sha256}.jpg")
    thumbnail = ""


class PredictionFactory(DatedFactory):
    class Meta:
        model = Prediction

    image = factory.SubFactory(ImageFactory)
    model_version = factory.SubFactory(ModelVersionFactory)
    confidence = 0.9
    latency_ms = 50.0
    status = Prediction.Status.AUTO_ACCEPTED


class ReviewFactory(DatedFactory):
    class Meta:
        model = Review

    prediction = factory.SubFactory(PredictionFactory)
    decision = Review.Decision.ACCEPTED

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import ImageStatus, ProductImage
from classification.models import Prediction
from tests.classification.factories import ProductImageFactory


def test_requeue_stuck_queues_only_old_waiting_images(merchant, capsys):
    old = timezone.now() - timedelta(hours=2)
    stuck = ProductImageFactory(
        product__merchant=merchant, status=ImageStatus.PROCESSING
    )
    fresh = ProductImageFactory(product__merchant=merchant, status=ImageStatus.PENDING)
    done = ProductImageFactory(
        product__merchant=merchant, status=ImageStatus.CLASSIFIED
    )
    ProductImage.objects.filter(pk__in=[stuck.pk, done.pk]).update(
        status_changed_at=old
    )

    call_command("requeue_stuck", "--older-than", "3600")

    assert capsys.readouterr().out.strip() == "Queued 1 photo again."
    # The file of this row does not exist: the task ran and recorded why.
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == ImageStatus.FAILED
    assert (
        Prediction.objects.get(image=stuck).error == "The stored image file is missing."
    )
    assert fresh.status == ImageStatus.PENDING
    assert not Prediction.objects.filter(image__in=[fresh, done]).exists()


def test_requeue_stuck_refuses_a_negative_age(db):
    with pytest.raises(SystemExit) as exit_info:
        call_command("requeue_stuck", "--older-than", "-5")
    assert exit_info.value.code == 2

"""A small platform history whose every figure is counted by hand in the tests.

The period is the seven days 2026-03-09 to 2026-03-15 (UTC); "now" is
2026-03-15 15:00. ``day(k)`` is noon k days before the 15th. Merchants alpha and
beta; categories shoes, bags, hats; versions v1 (retired) and v2 (active).

Images (merchant, uploaded, status):
    I0 alpha day 8 classified      I1 alpha day 6 reviewed    I2 alpha day 3 classified
    I3 alpha day 3 reviewed        I4 alpha day 0 14:00 needs_review
    I5 alpha day 20 reviewed       K0 alpha 03-08 23:59:59 pending
    K1 alpha 03-09 00:00:00 pending
    J1 beta day 3 failed           J2 beta day 1 needs_review
    J3 beta day 1 pending          J4 beta day 5 failed

Predictions (image, version, status, confidence, latency ms, category, written):
    P0  I0 v1 needs_review 0.40  90 shoes day 8, not current (replaced by P0b)
    P0b I0 v2 auto         0.95 100 shoes day 2
    P1  I1 v2 accepted     0.45  50 shoes day 6: skipped day 5, accepted day 4
    P2  I2 v2 auto         0.85  40 bags  day 3
    P3  I3 v2 corrected    0.55  60 shoes day 3: corrected to hats day 1
    P4  I4 v2 needs_review 0.30  80 hats  day 0 14:00
    P5  I5 v1 corrected    0.50  70 bags  day 20: corrected to shoes day 2
    Q1  J1 v2 failed "The stored image file is missing." day 3
    Q2  J2 v2 needs_review 0.52 200 bags  day 1
    Q4  J4 v2 failed (no reason) day 5
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.models import Merchant
from catalog.models import Category, ImageStatus
from classification.models import ModelVersion, Prediction, Review
from dashboard.selectors import Period
from tests.accounts.factories import MerchantFactory
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.dashboard.factories import (
    ImageFactory,
    ModelVersionFactory,
    PredictionFactory,
    ReviewFactory,
)

NOW = datetime(2026, 3, 15, 15, 0, tzinfo=UTC)
PERIOD = Period(start=date(2026, 3, 9), end=date(2026, 3, 15))
S = Prediction.Status
D = Review.Decision


def day(k: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, 15, hour, 0, tzinfo=UTC) - timedelta(days=k)


@dataclass
class Known:
    alpha: Merchant
    beta: Merchant
    shoes: Category
    bags: Category
    hats: Category
    v1: ModelVersion
    v2: ModelVersion
    predictions: dict


@pytest.fixture
def known(db) -> Known:
    alpha = MerchantFactory(name="Alpha", slug="alpha")
    beta = MerchantFactory(name="Beta", slug="beta")
    shoes = CategoryFactory(slug="test-shoes", name="Shoes")
    bags = CategoryFactory(slug="test-bags", name="Bags")
    hats = CategoryFactory(slug="test-hats", name="Hats")
    v1 = ModelVersionFactory(
        name="v1",
        status=ModelVersion.Status.RETIRED,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    v2 = ModelVersionFactory(
        name="v2",
        status=ModelVersion.Status.ACTIVE,
        created_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    alpha_product = ProductFactory(merchant=alpha)
    beta_product = ProductFactory(merchant=beta)

    def image(product, when, status):
        return ImageFactory(product=product, created_at=when, status=status)

    i0 = image(alpha_product, day(8), ImageStatus.CLASSIFIED)
    i1 = image(alpha_product, day(6), ImageStatus.REVIEWED)
    i2 = image(alpha_product, day(3), ImageStatus.CLASSIFIED)
    i3 = image(alpha_product, day(3), ImageStatus.REVIEWED)
    i4 = image(alpha_product, day(0, hour=14), ImageStatus.NEEDS_REVIEW)
    i5 = image(alpha_product, day(20), ImageStatus.REVIEWED)
    image(
        alpha_product, datetime(2026, 3, 8, 23, 59, 59, tzinfo=UTC), ImageStatus.PENDING
    )
    image(alpha_product, datetime(2026, 3, 9, 0, 0, 0, tzinfo=UTC), ImageStatus.PENDING)
    j1 = image(beta_product, day(3), ImageStatus.FAILED)
    j2 = image(beta_product, day(1), ImageStatus.NEEDS_REVIEW)
    image(beta_product, day(1), ImageStatus.PENDING)
    j4 = image(beta_product, day(5), ImageStatus.FAILED)

    def predict(img, version, status, confidence, latency, category, when, **kw):
        return PredictionFactory(
            image=img,
            model_version=version,
            status=status,
            confidence=confidence,
            latency_ms=latency,
            category=category,
            created_at=when,
            **kw,
        )

    p = {
        "P0": predict(
            i0, v1, S.NEEDS_REVIEW, 0.40, 90, shoes, day(8), is_current=False
        ),
        "P0b": predict(i0, v2, S.AUTO_ACCEPTED, 0.95, 100, shoes, day(2)),
        "P1": predict(i1, v2, S.ACCEPTED, 0.45, 50, shoes, day(6)),
        "P2": predict(i2, v2, S.AUTO_ACCEPTED, 0.85, 40, bags, day(3)),
        "P3": predict(i3, v2, S.CORRECTED, 0.55, 60, shoes, day(3)),
        "P4": predict(i4, v2, S.NEEDS_REVIEW, 0.30, 80, hats, day(0, hour=14)),
        "P5": predict(i5, v1, S.CORRECTED, 0.50, 70, bags, day(20)),
        "Q1": predict(
            j1,
            v2,
            S.FAILED,
            None,
            None,
            None,
            day(3),
            error="The stored image file is missing.",
        ),
        "Q2": predict(j2, v2, S.NEEDS_REVIEW, 0.52, 200, bags, day(1)),
        "Q4": predict(j4, v2, S.FAILED, None, None, None, day(5)),
    }
    ReviewFactory(prediction=p["P1"], decision=D.SKIPPED, created_at=day(5))
    ReviewFactory(
        prediction=p["P1"], decision=D.ACCEPTED, final_category=shoes, created_at=day(4)
    )
    ReviewFactory(
        prediction=p["P3"], decision=D.CORRECTED, final_category=hats, created_at=day(1)
    )
    ReviewFactory(
        prediction=p["P5"],
        decision=D.CORRECTED,
        final_category=shoes,
        created_at=day(2),
    )
    return Known(alpha, beta, shoes, bags, hats, v1, v2, p)

"""The product page and its media manager: delete, cover, reorder and share
photos, set the category from a suggestion, and the page's refresh.

Each action answers JSON to the page's script (``Accept: application/json``)
and redirects back to the product page for a plain form, so every control also
works without JavaScript.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import Capability, own_merchant_scope
from catalog import selectors, services
from catalog.models import ImageStatus
from classification.selectors import (
    images_unusable_reasons,
    predictions_current_for_images,
    product_review_notices,
    review_reason_text,
)
from classification.services import intake
from classification.services.versions import model_loading_now
from config.errors import InvalidInput, NotFound, VitrineError

IN_FLIGHT = {ImageStatus.PENDING, ImageStatus.PROCESSING}


def wants_json(request: HttpRequest) -> bool:
    """Whether the caller is the page's script rather than a plain form."""
    return request.accepts("application/json") and not request.accepts("text/html")


def _product(
    request: HttpRequest, pk: int, capability: Capability = Capability.PRODUCT_MANAGE
):
    merchant = own_merchant_scope(request.user, capability)
    return selectors.product_get(merchant=merchant, pk=pk)


def _answer(request: HttpRequest, product, act: Callable[[], str]) -> HttpResponse:
    """Run ``act`` (which returns what it did, in words) and answer the caller."""
    try:
        said = act()
    except VitrineError as error:
        if not wants_json(request):
            raise  # the page middleware shows it as a message
        return JsonResponse(
            {"ok": False, "code": error.code, "error": error.message},
            status=error.status,
        )
    if wants_json(request):
        return JsonResponse({"ok": True, "message": said})
    messages.success(request, said)
    return redirect("catalog:product-detail", pk=product.pk)


def _photo_action(request: HttpRequest, pk: int, image_pk: int, act) -> HttpResponse:
    """Run ``act(image, product)`` on one of the product's photos."""
    product = _product(request, pk)
    image = selectors.product_image_get(product=product, pk=image_pk)
    return _answer(request, product, lambda: act(image, product))


def _delete(image, product) -> str:
    services.image_delete(image=image)
    return f"Deleted photo {image.original_name or image.pk} from {product.name}."


def _cover(image, product) -> str:
    services.image_set_cover(image=image)
    return f"{image.original_name or 'The photo'} is now the cover photo."


@login_required
@require_POST
def image_delete(request: HttpRequest, pk: int, image_pk: int) -> HttpResponse:
    return _photo_action(request, pk, image_pk, _delete)


@login_required
@require_POST
def image_cover(request: HttpRequest, pk: int, image_pk: int) -> HttpResponse:
    return _photo_action(request, pk, image_pk, _cover)


@login_required
@require_POST
def image_order(request: HttpRequest, pk: int) -> HttpResponse:
    """Reorder the photos: ``order`` lists every photo id once, first to last."""
    product = _product(request, pk)

    def act() -> str:
        raw = request.POST.getlist("order")
        if len(raw) == 1 and "," in raw[0]:
            raw = raw[0].split(",")
        try:
            ids = [int(value) for value in raw]
        except ValueError:
            raise InvalidInput(
                "The order must list photo ids.", field="order"
            ) from None
        services.images_reorder(product=product, image_ids=ids)
        return "Saved the order of the photos."

    return _answer(request, product, act)


@login_required
@require_POST
def image_share(request: HttpRequest, pk: int) -> HttpResponse:
    """Use the merchant's photo ``image`` (on another product) here too."""
    product = _product(request, pk)

    def act() -> str:
        try:
            image_id = int(request.POST.get("image", ""))
        except ValueError:
            raise InvalidInput("Name the photo to use.", field="image") from None
        image = selectors.images_by_id(ids=[image_id]).get(image_id)
        if image is None or image.merchant_id != product.merchant_id:
            raise NotFound("No such photo.", code="image_not_found", field="image")
        _, created = intake.image_share(image=image, product=product, user=request.user)
        if not created:
            return "This photo is already on this product."
        return (
            f"The photo of “{image.product.name}” is now on {product.name} too; "
            "it is stored once."
        )

    return _answer(request, product, act)


@login_required
@require_POST
def product_category(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the product's category from one of a photo's suggestions."""
    product = _product(request, pk)

    def act() -> str:
        slug = request.POST.get("category", "")
        category = selectors.category_list().filter(slug=slug).first()
        if category is None:
            raise InvalidInput(
                "Choose one of the suggested categories.", field="category"
            )
        intake.product_update(product=product, category=category)
        return f"{product.name} is now in {category.name}."

    return _answer(request, product, act)


# --- The product page and its refresh ------------------------------------------


def _image_cards(product) -> list[dict]:
    images = list(selectors.product_images(product=product))
    predictions = predictions_current_for_images(image_ids=[i.pk for i in images])
    names = selectors.category_names()
    shared = selectors.image_share_counts(images=images)
    unusable = images_unusable_reasons(
        image_ids=[i.pk for i in images if i.status == ImageStatus.UNUSABLE]
    )
    cards = []
    for index, image in enumerate(images):
        prediction = predictions.get(image.pk)
        top_k = [
            {
                "slug": entry["category"],
                "name": names.get(entry["category"], entry["category"]),
                "probability": entry["probability"],
                "known": entry["category"] in names,
            }
            for entry in (prediction.top_k if prediction else [])
        ]
        cards.append(
            {
                "image": image,
                "order_up": _swapped(images, index, index - 1),
                "order_down": _swapped(images, index, index + 1),
                "prediction": prediction,
                "top_k": top_k,
                "review_reason": _review_reason(prediction),
                "unusable": unusable.get(image.pk, ""),
                "shared_with": shared.get(image.pk, 0),
            }
        )
    return cards


def _swapped(images, i: int, j: int) -> str:
    """The photo ids with photos ``i`` and ``j`` swapped ("" past either end):
    what a move button posts, so moving works without the page's script."""
    if not 0 <= j < len(images):
        return ""
    ids = [image.pk for image in images]
    ids[i], ids[j] = ids[j], ids[i]
    return ",".join(map(str, ids))


def _review_reason(prediction) -> str:
    """Why a photo waits for a person, in the merchant's words ("" if it does not)."""
    if prediction is None or prediction.status != "needs_review":
        return ""
    return f"Waits for review: {review_reason_text(prediction, for_merchant=True)}."


def _upload_summary(cards) -> str:
    """ "18 of 20 classified, 2 waiting for review" for the photos of the page."""
    if not cards:
        return ""
    counts = {}
    for card in cards:
        counts[card["image"].status] = counts.get(card["image"].status, 0) + 1
    done = sum(
        counts.get(s, 0)
        for s in (
            ImageStatus.CLASSIFIED,
            ImageStatus.REVIEWED,
        )
    )
    parts = [f"{done} of {len(cards)} classified"]
    for status, words in (
        (ImageStatus.NEEDS_REVIEW, "waiting for review"),
        (ImageStatus.FAILED, "failed"),
    ):
        if counts.get(status):
            parts.append(f"{counts[status]} {words}")
    return ", ".join(parts)


@login_required
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product(request, pk, Capability.PRODUCT_VIEW)
    cards = _image_cards(product)
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "cards": cards,
            "summary": _upload_summary(cards),
            "currency": settings.VITRINE_CURRENCY,
            "offers": selectors.share_offers(
                product=product, image_ids=request.GET.getlist("offer")
            ),
            "in_flight": any(c["image"].status in IN_FLIGHT for c in cards),
            "max_mb": settings.VITRINE_UPLOAD_MAX_BYTES // 1048576,
            "review_notices": product_review_notices(product=product),
        },
    )


@login_required
@require_GET
def product_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The image cards and category of a product, for the page to refresh itself."""
    product = _product(request, pk, Capability.PRODUCT_VIEW)
    cards = _image_cards(product)
    waiting = sum(c["image"].status in IN_FLIGHT for c in cards)
    loading = bool(waiting) and model_loading_now() is not None
    return JsonResponse(
        {
            "in_flight": bool(waiting),
            "model_loading": loading,
            "message": _status_message(waiting=waiting, loading=loading),
            "category": product.category.name if product.category else None,
            "category_source": product.get_category_source_display(),
            "images": [_image_json(c["image"], c["prediction"]) for c in cards],
            "summary": _upload_summary(cards),
            "html": render_to_string(
                "catalog/_image_cards.html",
                {"cards": cards, "product": product},
                request=request,
            ),
        }
    )


def _status_message(*, waiting: int, loading: bool) -> str:
    if loading:
        return (
            "Loading the model: the first photo after a start takes a few "
            "seconds, the next ones a fraction of a second."
        )
    if waiting:
        return f"Classifying {waiting} photo{pluralize(waiting)}…"
    return ""


def _image_json(image, prediction) -> dict:
    data = {
        "id": image.pk,
        "status": image.status,
        "position": image.position,
        "is_cover": image.is_cover,
        "prediction": None,
    }
    if prediction is not None:
        data["prediction"] = {
            "status": prediction.status,
            "category": prediction.category.slug if prediction.category else None,
            "confidence": prediction.confidence,
            "top_k": prediction.top_k,
            "model_version": prediction.model_version.name,
            "error": prediction.error,
            "review_reason": prediction.review_reason,
            "review_reason_text": review_reason_text(prediction, for_merchant=True),
        }
    return data

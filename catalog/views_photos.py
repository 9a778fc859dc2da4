"""The product page's media manager: delete, cover, reorder and share photos,
and set the category from a suggestion.

Each action answers JSON to the page's script (``Accept: application/json``)
and redirects back to the product page for a plain form, so every control also
works without JavaScript.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.roles import Capability, own_merchant_scope
from catalog import selectors, services
from classification.services import intake
from config.errors import InvalidInput, NotFound, VitrineError


def wants_json(request: HttpRequest) -> bool:
    """Whether the caller is the page's script rather than a plain form."""
    return request.accepts("application/json") and not request.accepts("text/html")


def _product(request: HttpRequest, pk: int):
    merchant = own_merchant_scope(request.user, Capability.PRODUCT_MANAGE)
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

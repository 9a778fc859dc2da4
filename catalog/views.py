"""Merchant pages. Every read goes through a merchant-scoped selector."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import (
    MERCHANT_ROLES,
    Capability,
    merchant_scope,
    own_merchant_scope,
    user_roles,
)
from catalog import selectors, services
from catalog.forms import ProductForm
from catalog.models import ImageStatus
from classification.selectors import (
    predictions_current_for_images,
    product_review_notices,
)
from classification.services import intake
from classification.services.versions import model_loading_now
from imaging.errors import ImageRejected

PAGE_SIZE = 24
IN_FLIGHT = {ImageStatus.PENDING, ImageStatus.PROCESSING}

logger = logging.getLogger(__name__)


def _merchant(request: HttpRequest, capability: Capability = Capability.PRODUCT_MANAGE):
    """The user's own merchant, when their merchant role may use the page."""
    return own_merchant_scope(request.user, capability)


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff and not user_roles(request.user) & MERCHANT_ROLES:
        return redirect("admin:index")  # platform staff work in the admin
    merchant = _merchant(request, Capability.PRODUCT_VIEW)
    products = selectors.product_list(
        merchant=merchant,
        search=request.GET.get("q", "").strip(),
        status=request.GET.get("status", "")
        if request.GET.get("status") in ImageStatus.values
        else "",
    )
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/product_list.html",
        {
            "page": page,
            "q": request.GET.get("q", ""),
            "status": request.GET.get("status", ""),
            "statuses": ImageStatus.choices,
            "merchant_summary": selectors.merchant_summary(merchant=merchant),
        },
    )


def _image_cards(product) -> list[dict]:
    images = list(product.images.order_by("-created_at", "-id"))
    predictions = predictions_current_for_images(image_ids=[i.pk for i in images])
    names = selectors.category_names()
    cards = []
    for image in images:
        prediction = predictions.get(image.pk)
        top_k = [
            (names.get(entry["category"], entry["category"]), entry["probability"])
            for entry in (prediction.top_k if prediction else [])
        ]
        cards.append({"image": image, "prediction": prediction, "top_k": top_k})
    return cards


@login_required
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(
        merchant=_merchant(request, Capability.PRODUCT_VIEW), pk=pk
    )
    cards = _image_cards(product)
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "cards": cards,
            "in_flight": any(c["image"].status in IN_FLIGHT for c in cards),
            "max_mb": settings.VITRINE_UPLOAD_MAX_BYTES // 1048576,
            "review_notices": product_review_notices(product=product),
        },
    )


@login_required
@require_GET
def product_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The image cards and category of a product, for the page to refresh itself."""
    product = selectors.product_get(
        merchant=_merchant(request, Capability.PRODUCT_VIEW), pk=pk
    )
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
            "html": render_to_string(
                "catalog/_image_cards.html", {"cards": cards}, request=request
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
    data = {"id": image.pk, "status": image.status, "prediction": None}
    if prediction is not None:
        data["prediction"] = {
            "status": prediction.status,
            "category": prediction.category.slug if prediction.category else None,
            "confidence": prediction.confidence,
            "top_k": prediction.top_k,
            "model_version": prediction.model_version.name,
            "error": prediction.error,
        }
    return data


def _save_product_form(request: HttpRequest, form: ProductForm):
    """Create or update the product and its photos; all or nothing."""
    files = form.cleaned_data.get("images") or []
    # Check every photo first so a bad one stores nothing at all.
    prepared = []
    for upload in files:
        try:
            prepared.append(services.image_prepare(upload=upload))
        except ImageRejected as error:
            form.add_error("images", f"{upload.name}: {error.message}")
    if form.errors:
        return None
    fields = {k: form.cleaned_data[k] for k in ("sku", "name", "description", "price")}
    fields["category"] = form.cleaned_data["category"]
    with transaction.atomic():
        if form.instance.pk:
            product = intake.product_update(product=form.instance, **fields)
        else:
            product = services.product_create(merchant=form.merchant, **fields)
        intake.images_store(product=product, prepared=prepared, user=request.user)
    return product


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    merchant = _merchant(request)
    form = ProductForm(request.POST or None, request.FILES or None, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        product = _save_product_form(request, form)
        if product:
            messages.success(request, f"Created {product.name}.")
            return redirect("catalog:product-detail", pk=product.pk)
    return render(request, "catalog/product_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    merchant = _merchant(request)
    product = selectors.product_get(merchant=merchant, pk=pk)
    form = ProductForm(
        request.POST or None, request.FILES or None, instance=product, merchant=merchant
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and _save_product_form(request, form)
    ):
        messages.success(request, f"Saved {product.name}.")
        return redirect("catalog:product-detail", pk=product.pk)
    return render(
        request, "catalog/product_form.html", {"form": form, "product": product}
    )


@login_required
@require_POST
def product_delete(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(merchant=_merchant(request), pk=pk)
    services.product_delete(product=product)
    messages.success(request, f"Deleted {product.name}.")
    return redirect("catalog:product-list")


@login_required
@require_POST
def image_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload photos to a product; each file succeeds or fails on its own.

    Answers JSON for scripts (the page's uploader) and redirects for plain forms.
    """
    product = selectors.product_get(merchant=_merchant(request), pk=pk)
    files = request.FILES.getlist("file") or request.FILES.getlist("images")
    results = []
    for upload in files:
        try:
            image, created = intake.image_upload(
                product=product, upload=upload, user=request.user
            )
        except ImageRejected as error:
            results.append(
                {
                    "name": upload.name,
                    "ok": False,
                    "code": error.code,
                    "error": error.message,
                }
            )
            continue
        note = "" if created else _duplicate_note(image, product)
        results.append(
            {
                "name": upload.name,
                "ok": True,
                "id": image.pk,
                "created": created,
                "status": image.status,
                "note": note,
            }
        )
    if not files:
        results.append(
            {
                "name": "",
                "ok": False,
                "code": "no_file",
                "error": "Choose at least one photo.",
            }
        )
    if request.accepts("application/json") and not request.accepts("text/html"):
        status = 200 if any(r["ok"] for r in results) else 400
        return JsonResponse({"results": results}, status=status)
    for result in results:
        if result["ok"]:
            messages.success(request, f"{result['name']}: uploaded. {result['note']}")
        else:
            messages.error(request, f"{result['name']}: {result['error']}".lstrip(": "))
    return redirect("catalog:product-detail", pk=product.pk)


def _duplicate_note(image, product) -> str:
    if image.product_id == product.pk:
        return "This photo was already on this product."
    return f"This photo is already on “{image.product.name}” ({image.product.sku})."


def stored_file_response(name: str) -> HttpResponse:
    """Answer a stored file: a redirect to its presigned URL on object storage,
    or the bytes themselves from local storage."""
    url = default_storage.url(name)
    if url.startswith(("http://", "https://")):
        return redirect(url)
    try:
        stored = default_storage.open(name, "rb")
    except FileNotFoundError as error:
        # The row outlived its file (deleted by hand, a lost volume): the
        # photo is gone for the client, and someone should look at storage.
        logger.warning("stored file %s is missing", name)
        raise Http404("The photo's file is missing.") from error
    response = FileResponse(stored)
    response["Cache-Control"] = "private, max-age=86400"
    return response


def _serve(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    # Reviewers and platform admins (the admin, the review queue) see every
    # merchant's photos.
    merchant = merchant_scope(request.user, Capability.IMAGE_VIEW)
    image = selectors.image_get(merchant=merchant, pk=pk)
    return stored_file_response(getattr(image, field).name)


@login_required
@require_GET
def image_file(request: HttpRequest, pk: int) -> HttpResponse:
    return _serve(request, pk, "file")


@login_required
@require_GET
def image_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    return _serve(request, pk, "thumbnail")

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
from django.urls import reverse
from django.utils.http import urlencode
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
from catalog.views_photos import wants_json
from catalog.views_table import VIEW_COOKIE, VIEWS, product_table_context
from classification.services import intake
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
    """The catalog as tiles or as a table (``?view=``, then remembered)."""
    if request.user.is_staff and not user_roles(request.user) & MERCHANT_ROLES:
        return redirect("admin:index")  # platform staff work in the admin
    merchant = _merchant(request, Capability.PRODUCT_VIEW)
    view = request.GET.get("view") or request.COOKIES.get(VIEW_COOKIE)
    view = view if view in VIEWS else "tiles"
    context = {
        "view": view,
        "merchant_summary": selectors.merchant_summary(merchant=merchant),
        "currency": settings.VITRINE_CURRENCY,
    }
    if view == "table":
        context.update(product_table_context(request, merchant))
    else:
        products = selectors.product_list(
            merchant=merchant,
            search=request.GET.get("q", "").strip(),
            status=request.GET.get("status", "")
            if request.GET.get("status") in ImageStatus.values
            else "",
        )
        context.update(
            {
                "page": Paginator(products, PAGE_SIZE).get_page(
                    request.GET.get("page")
                ),
                "q": request.GET.get("q", ""),
                "status": request.GET.get("status", ""),
                "statuses": ImageStatus.choices,
            }
        )
    response = render(request, "catalog/product_list.html", context)
    if request.GET.get("view") in VIEWS:
        response.set_cookie(
            VIEW_COOKIE, view, max_age=365 * 86400, samesite="Lax", httponly=True
        )
    return response


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
        stored = intake.images_store(
            product=product, prepared=prepared, user=request.user
        )
    product.offers = [i.pk for i, _ in stored if i.product_id != product.pk]
    return product


def _detail_url(request: HttpRequest, product) -> str:
    """The product page, offering the photos the form found on other products."""
    url = reverse("catalog:product-detail", args=[product.pk])
    offers = getattr(product, "offers", [])
    if not offers:
        return url
    messages.warning(
        request,
        f"{len(offers)} photo{'s are' if len(offers) > 1 else ' is'} already on "
        "other products, so not added here: see below to use them here too.",
    )
    return f"{url}?{urlencode({'offer': offers}, doseq=True)}"


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    merchant = _merchant(request)
    form = ProductForm(request.POST or None, request.FILES or None, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        product = _save_product_form(request, form)
        if product:
            messages.success(request, f"Created {product.name}.")
            return redirect(_detail_url(request, product))
    return render(request, "catalog/product_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    merchant = _merchant(request)
    product = selectors.product_get(merchant=merchant, pk=pk)
    form = ProductForm(
        request.POST or None, request.FILES or None, instance=product, merchant=merchant
    )
    saved = (
        request.method == "POST"
        and form.is_valid()
        and _save_product_form(request, form)
    )
    if saved:
        messages.success(request, f"Saved {product.name}.")
        return redirect(_detail_url(request, saved))
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
        elsewhere = image.product_id != product.pk
        results.append(
            {
                "name": upload.name,
                "ok": True,
                "id": image.pk,
                "created": created,
                "status": image.status,
                "note": note,
                # Bytes already on another product: offer to use them here too.
                "share_url": reverse("catalog:image-share", args=[product.pk])
                if elsewhere
                else "",
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
    if wants_json(request):
        status = 200 if any(r["ok"] for r in results) else 400
        return JsonResponse({"results": results}, status=status)
    offers = []
    for result in results:
        if result["ok"] and result["share_url"]:
            offers.append(result["id"])
            messages.warning(request, f"{result['name']}: {result['note']}")
        elif result["ok"]:
            messages.success(request, f"{result['name']}: uploaded. {result['note']}")
        else:
            messages.error(request, f"{result['name']}: {result['error']}".lstrip(": "))
    url = reverse("catalog:product-detail", args=[product.pk])
    query = urlencode({"offer": offers}, doseq=True)
    return redirect(f"{url}?{query}" if offers else url)


def _duplicate_note(image, product) -> str:
    if image.product_id == product.pk:
        return "This photo was already on this product."
    return (
        f"This photo is already on “{image.product.name}” ({image.product.sku}), "
        "so it was not added here. Use it on this product too: it stays stored once."
    )


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

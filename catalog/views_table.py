"""The catalog table: a dense, sortable, filterable list of the merchant's
products, and the actions on the products selected in it (set a category,
export CSV, delete after a confirmation that counts them)."""

import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.roles import Capability, own_merchant_scope
from catalog import selectors, services
from catalog.forms import ProductBulkForm, ProductTableForm
from classification.services import intake

TABLE_PAGE_SIZE = 50
VIEWS = ("tiles", "table")
VIEW_COOKIE = "catalog_view"
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def product_table_context(request: HttpRequest, merchant) -> dict:
    """What the table view of the product list shows."""
    form = ProductTableForm(request.GET, categories=list(selectors.category_list()))
    query = form.query()
    products = selectors.product_table(merchant=merchant, **query)
    page = Paginator(products, TABLE_PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "form": form,
        "page": page,
        "sort": query["sort"],
        "filtered": any(
            request.GET.get(name) for name in ("q", "category", "status", "source")
        ),
        "columns": [
            ("name", "Name"),
            ("sku", "SKU"),
            ("price", "Price"),
            ("category", "Category"),
            ("source", "Set by"),
            ("photos", "Photos"),
        ],
        "categories": selectors.category_list(),
    }


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("catalog:product-list")


@login_required
@require_POST
def product_bulk(request: HttpRequest) -> HttpResponse:
    """Act on the selected products; deleting asks first, with their count."""
    merchant = own_merchant_scope(request.user, Capability.PRODUCT_MANAGE)
    form = ProductBulkForm(request.POST, merchant=merchant)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back(request))
    products = selectors.products_of(
        merchant=merchant, ids=form.cleaned_data["products"]
    )
    action = form.cleaned_data["action"]
    if action == "export":
        return _csv(merchant, form.cleaned_data["products"])
    if action == "set_category":
        category = form.cleaned_data["category"]
        changed = intake.products_set_category(products=products, category=category)
        messages.success(
            request,
            f"Set the category of {changed} product{'s' * (changed != 1)} "
            f"to {category.name}.",
        )
        return redirect(_back(request))
    if not form.cleaned_data["confirm"]:
        return render(
            request,
            "catalog/product_bulk_delete.html",
            {"products": products, "count": len(products), "next": _back(request)},
        )
    count = services.products_delete(products=products)
    messages.success(request, f"Deleted {count} product{'s' * (count != 1)}.")
    return redirect(_back(request))


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _csv(merchant, ids) -> HttpResponse:
    """The selected products as CSV, one row each."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="products-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["sku", "name", "price", "currency", "category", "category_source", "photos"]
    )
    for product in selectors.product_table(merchant=merchant, ids=ids, sort="sku"):
        writer.writerow(
            [
                _cell(product.sku),
                _cell(product.name),
                "" if product.price is None else product.price,
                settings.VITRINE_CURRENCY,
                product.category.slug if product.category else "",
                product.category_source,
                product.image_count,
            ]
        )
    return response

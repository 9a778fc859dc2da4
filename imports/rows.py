"""The catalog CSV: its columns and one checked row at a time.

Columns (a header row, names in any case and order): ``sku`` and ``name``
required; ``description``, ``price``, ``category`` (a category's slug or
name) and ``image`` optional, other columns ignored. ``image`` holds one or
several photos separated by ``|`` or ``;``: names of files in the ZIP, or
http(s) URLs. An empty cell leaves a stored product's field as it is.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings

from catalog.models import Category, Product
from imports.errors import ImportRefused, RowFailed

REQUIRED = ("sku", "name")
COLUMNS = ("sku", "name", "description", "price", "category", "image")
IMAGE_SEPARATORS = re.compile(r"[|;]")
ENCODING = "utf-8-sig"  # a spreadsheet's byte-order mark is not part of "sku"


@dataclass
class Row:
    """One CSV row, checked: what a product gets, or why it cannot."""

    line: int
    sku: str
    fields: dict = field(default_factory=dict)  # product fields to set
    images: list[str] = field(default_factory=list)


def csv_rows(binary) -> Iterator[dict[str, str]]:
    """The rows of the CSV in the binary stream ``binary``, as dicts keyed by
    the lower-cased header; ImportRefused when the header lacks a column."""
    text = io.TextIOWrapper(binary, encoding=ENCODING, newline="")
    try:
        yield from _rows(csv.reader(text))
    finally:
        text.detach()  # the caller's stream stays open


def _rows(reader) -> Iterator[dict[str, str]]:
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ImportRefused("The CSV is empty.", code="csv_invalid") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImportRefused(
            f"The CSV cannot be read: {error}", code="csv_invalid"
        ) from error
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise ImportRefused(
            f"The CSV has no {', '.join(missing)} column; its columns must "
            f"include {', '.join(REQUIRED)} (and may include "
            f"{', '.join(COLUMNS[len(REQUIRED) :])}).",
            code="csv_invalid",
        )
    try:
        for values in reader:
            if any(value.strip() for value in values):
                yield dict(zip(header, values, strict=False))
            else:
                yield {}  # a blank line still counts, so rows stay numbered
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImportRefused(
            f"The CSV cannot be read past line {reader.line_num}: {error}",
            code="csv_invalid",
        ) from error


def row_parse(
    values: dict[str, str], *, line: int, categories: dict[str, Category]
) -> Row:
    """Check one row; raise RowFailed naming the first thing wrong with it.

    ``categories`` maps lower-cased slugs and names to categories.
    """
    sku = values.get("sku", "").strip()
    name = values.get("name", "").strip()
    if not sku:
        raise RowFailed("sku_missing", "The row has no SKU.")
    max_sku = Product._meta.get_field("sku").max_length
    if len(sku) > max_sku:
        raise RowFailed("sku_too_long", f"The SKU is over {max_sku} characters.")
    row = Row(line=line, sku=sku)
    if name:
        max_name = Product._meta.get_field("name").max_length
        if len(name) > max_name:
            raise RowFailed("name_too_long", f"The name is over {max_name} characters.")
        row.fields["name"] = name
    description = values.get("description", "").strip()
    if description:
        row.fields["description"] = description
    price = values.get("price", "").strip()
    if price:
        row.fields["price"] = _price(price)
    category = values.get("category", "").strip()
    if category:
        if category.lower() not in categories:
            raise RowFailed("unknown_category", f"No category {category!r}.")
        row.fields["category"] = categories[category.lower()]
    images = [
        part.strip()
        for part in IMAGE_SEPARATORS.split(values.get("image", ""))
        if part.strip()
    ]
    max_images = settings.VITRINE_IMPORT_MAX_IMAGES_PER_ROW
    if len(images) > max_images:
        raise RowFailed(
            "too_many_images",
            f"The row names {len(images)} photos; at most {max_images}.",
        )
    row.images = list(dict.fromkeys(images))
    return row


def _price(text: str) -> Decimal:
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise RowFailed(
            "invalid_price", f"The price {text!r} is not a number."
        ) from None
    field_ = Product._meta.get_field("price")
    limit = Decimal(10) ** (field_.max_digits - field_.decimal_places)
    if not price.is_finite() or price < 0 or price >= limit:
        raise RowFailed("invalid_price", f"The price {text!r} is out of range.")
    return price.quantize(Decimal("0.01"))

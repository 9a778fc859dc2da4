"""The HTML fragments the classification admin shows: the queue's columns, a
model version's metrics, a job's progress.

Each takes rows or plain data and returns safe HTML built with format_html, so
the admins stay declarations of columns, actions and pages. Photos come from
``catalog.admin.thumbnail_html``, which the catalog's admin shares.
"""

from collections.abc import Iterable
from datetime import datetime

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join, json_script
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from catalog.models import Product, ProductImage

# The stylesheet of the versions' and jobs' pages (metrics, matrix, progress).
STYLESHEETS = {"all": ["classification/admin.css"]}


def percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def when(value: datetime | None) -> str | None:
    # None shows as the admin's usual empty value.
    return date_format(localtime(value), "Y-m-d H:i") if value else None


def _aside(text: str, aside: str) -> SafeString:
    """``text`` with a quieter remark after it."""
    return format_html("{} <span class='quiet'>{}</span>", text, aside)


def _lines(fragments: Iterable[str]) -> SafeString:
    """Fragments of HTML (each escaped or already safe), one per line."""
    return format_html_join(mark_safe("<br>"), "{}", ((f,) for f in fragments))


# --- the review queue ------------------------------------------------------------


def product_html(image: ProductImage) -> SafeString:
    """The product's name, with its SKU and merchant under it."""
    product = image.product
    return format_html(
        "<strong>{}</strong><br><span class='quiet'>{} · {}</span>",
        product.name,
        product.sku,
        image.merchant.name,
    )


def top_five_html(choices: list[dict] | None, error: str) -> SafeString:
    """The top-5 categories with their probabilities, or why there are none."""
    if not choices:
        return format_html("<span class='quiet'>{}</span>", error or "—")
    return _lines(_aside(c["name"], f"{c['probability']:.0%}") for c in choices)


def merchant_category_html(product: Product) -> str:
    """The category the product has, and who set it."""
    if product.category is None:
        return "—"
    return _aside(
        product.category.name, f"({product.get_category_source_display().lower()})"
    )


def near_duplicates_html(image: ProductImage) -> SafeString:
    """Links to the merchant's photos that this one repeats."""
    return format_html_join(
        mark_safe("<br>"),
        "<a href='{}' target='_blank' rel='noopener'>{}</a>",
        (
            (
                reverse("catalog:image-file", args=[d.duplicate_of_id]),
                d.duplicate_of.product.name,
            )
            for d in image.near_duplicates.all()
        ),
    )


# --- model versions and jobs -----------------------------------------------------


def metrics_summary_html(metrics: dict, review_share: float | None = None) -> str:
    """The headline figures as a small definition table; ``review_share`` is
    the share of the evaluation photos sent to review at the thresholds the
    version would really use (``rollout.version_review_share``)."""
    if not metrics or "accuracy" not in metrics:
        return "No evaluation stored."
    thresholds = metrics.get("thresholds", {})
    calibration = metrics.get("calibration", {})
    rows = [
        (
            "Measured on",
            f"{metrics.get('measured_on', '?')} split, "
            f"{metrics.get('count', '?')} photos",
        ),
        ("Accuracy", percent(metrics.get("accuracy"))),
        ("Macro-F1", number(metrics.get("macro_f1"))),
        ("Top-2 accuracy", percent(metrics.get("top2_accuracy"))),
        ("Expected calibration error", number(metrics.get("ece"))),
        ("Temperature", number(metrics.get("temperature"), 3)),
        (
            "ECE on validation before / after scaling",
            f"{number(calibration.get('ece_before'))} / "
            f"{number(calibration.get('ece_after'))}",
        ),
        (
            "Share sent to review at the thresholds it would use",
            percent(review_share)
            if review_share is not None
            else "not told by its evaluation",
        ),
        (
            "Precision of what is auto-accepted",
            f"{percent(thresholds.get('auto_accept_precision'))} (target "
            f"{percent(thresholds.get('target_precision'))})",
        ),
        ("Images skipped", str(metrics.get("skipped", {}).get("count", 0))),
    ]
    body = format_html_join(
        "", "<tr><th>{}</th><td>{}</td></tr>", ((k, v) for k, v in rows)
    )
    return format_html('<table class="vitrine-metrics">{}</table>', body)


def per_class_html(metrics: dict) -> str:
    """Per-class precision, recall, F1, support and calibrated threshold."""
    headline = metrics.get(metrics.get("measured_on", ""), {})
    per_class = headline.get("per_class")
    if not per_class:
        return "–"
    thresholds = metrics.get("thresholds", {}).get("per_class", {})

    def threshold(slug):
        entry = thresholds.get(slug)
        if not entry or entry.get("threshold") is None:
            return "–"
        suffix = "" if entry.get("reached") else " (not reached)"
        return f"{entry['threshold']:.3f}{suffix}"

    rows = format_html_join(
        "",
        "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                slug,
                number(v["precision"]),
                number(v["recall"]),
                number(v["f1"]),
                v["support"],
                threshold(slug),
            )
            for slug, v in per_class.items()
        ),
    )
    return format_html(
        '<table class="vitrine-metrics"><thead><tr><th>Category</th>'
        "<th>Precision</th><th>Recall</th><th>F1</th><th>Support</th>"
        "<th>Auto-accept threshold</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


def confusion_matrix_html(metrics: dict, names: dict[str, str] | None = None) -> str:
    """The confusion matrix as a table, rows true and columns predicted.

    Each cell's shade (a CSS class, ten steps) shows its share of its row, so the
    diagonal and the worst confusions stand out; confusions that never happened
    are left empty, so a matrix of many categories stays readable.
    """
    headline = metrics.get(metrics.get("measured_on", ""), {})
    matrix, classes = headline.get("confusion_matrix"), headline.get("classes")
    if not matrix or not classes:
        return "–"
    classes = [(names or {}).get(c, c) for c in classes]
    header = format_html_join(
        "",
        '<th scope="col" title="{}">{}</th>',
        ((c, i + 1) for i, c in enumerate(classes)),
    )
    rows = []
    for i, (name, row) in enumerate(zip(classes, matrix, strict=True)):
        total = sum(row) or 1
        cells = format_html_join(
            "",
            '<td class="{} shade-{}">{}</td>',
            (
                (
                    "diagonal" if j == i else "off",
                    # Any confusion shows, however small its share.
                    max(min(int(10 * count / total), 9), 1) if count else 0,
                    # A zero shows only where it is a miss: on the diagonal
                    # of a category with photos.
                    count if count or (j == i and any(row)) else "",
                )
                for j, count in enumerate(row)
            ),
        )
        rows.append(
            format_html('<tr><th scope="row">{}. {}</th>{}</tr>', i + 1, name, cells)
        )
    return format_html(
        '<table class="vitrine-confusion"><thead><tr><th></th>{}</tr></thead>'
        '<tbody>{}</tbody></table><p class="help">Rows: true category; columns: '
        "predicted, numbered as the rows; an empty cell is none.</p>",
        header,
        mark_safe("".join(rows)),  # each row was built with format_html
    )


def precision_curve_html(metrics: dict, names: dict[str, str]) -> str:
    """A category picker, the canvas of the precision/coverage curve and its
    data (static/js/model_version.js draws it), or why there is none."""
    per_class = metrics.get("thresholds", {}).get("per_class", {})
    curves = {}
    for slug, entry in per_class.items():
        if not isinstance(entry, dict) or not entry.get("curve"):
            continue
        predicted = entry.get("predicted") or 0
        chosen = None
        if entry.get("reached") and predicted:
            chosen = {
                "threshold": entry["threshold"],
                "coverage": entry["auto_accepted"] / predicted,
                "precision": entry["precision"],
            }
        curves[slug] = {
            "name": names.get(slug, slug),
            "curve": entry["curve"],
            "chosen": chosen,
        }
    if not curves:
        return (
            "Not stored for this version: versions trained before the curve "
            "was recorded, and the ImageNet default, have none."
        )
    options = format_html_join(
        "",
        '<option value="{}">{}</option>',
        ((s, c["name"]) for s, c in curves.items()),
    )
    return format_html(
        '<label for="curve-category">Category</label> '
        '<select id="curve-category">{}</select>'
        '<div class="vitrine-curve"><canvas id="precision-coverage" '
        'aria-label="Precision against coverage"></canvas></div>{}'
        '<p class="help">Each point: a threshold, the share of the category\'s '
        "validation predictions at or above it (coverage) and how many of those "
        "are right; the diamond is the threshold calibration chose for the "
        "target precision.</p>",
        options,
        json_script(curves, "curve-data"),
    )


def progress_html(progress: float) -> SafeString:
    """A progress bar with its share written after it."""
    return format_html(
        '<progress class="vitrine-progress" max="1" value="{}"></progress> {}',
        progress,
        percent(progress, digits=0),
    )

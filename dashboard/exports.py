"""Each chart's data as a table, for its CSV export.

The tables are read from the chart data the selectors return, so a CSV holds
exactly what the chart draws.
"""

import csv
import io

# A cell a spreadsheet would read as a formula is written as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _activity(data):
    header = ["day", "uploads", "classifications"]
    return header, zip(data["labels"], data["uploads"], data["classified"], strict=True)


def _categories(data):
    header = ["category", "slug", "predicted", "confirmed_by_reviewer"]
    columns = (data["labels"], data["slugs"], data["predicted"], data["confirmed"])
    return header, zip(*columns, strict=True)


def _confidence(data):
    header = ["confidence", "accepted_automatically", "sent_to_review"]
    columns = (data["labels"], data["auto_accepted"], data["sent_to_review"])
    return header, zip(*columns, strict=True)


def _backlog(data):
    return ["day", "waiting_for_review"], zip(
        data["labels"], data["backlog"], strict=True
    )


def _backlog_age(data):
    return ["age", "waiting_for_review"], zip(
        data["labels"], data["counts"], strict=True
    )


def _outcomes(data):
    header = ["model_version", "accepted", "corrected", "live_precision"]
    columns = (data["labels"], data["accepted"], data["corrected"], data["precision"])
    return header, zip(*columns, strict=True)


def _confusion(data):
    header = ["model_version", "actual_category", "predicted_category", "reviews"]
    labels = data["labels"]
    rows = (
        (
            data["model_version"],
            labels[cell["actual"]],
            labels[cell["predicted"]],
            cell["count"],
        )
        for cell in data["cells"]
    )
    return header, rows


def _latency(data):
    header = ["day", "p50_ms", "p95_ms"]
    return header, zip(data["labels"], data["p50"], data["p95"], strict=True)


def _failures(data):
    rows = (
        (day, dataset["label"], count)
        for dataset in data["datasets"]
        for day, count in zip(data["labels"], dataset["data"], strict=True)
        if count
    )
    return ["day", "reason", "failures"], sorted(rows)


def _merchants(data):
    header = ["merchant", "uploads", *(d["key"] for d in data["datasets"])]
    columns = (data["labels"], data["totals"], *(d["data"] for d in data["datasets"]))
    return header, zip(*columns, strict=True)


TABLES = {
    "activity": _activity,
    "categories": _categories,
    "confidence": _confidence,
    "backlog": _backlog,
    "backlog_age": _backlog_age,
    "outcomes": _outcomes,
    "confusion": _confusion,
    "latency": _latency,
    "failures": _failures,
    "merchants": _merchants,
}


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def chart_csv(*, name: str, data: dict) -> str:
    """The chart's table as CSV text, header first."""
    header, rows = TABLES[name](data)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()

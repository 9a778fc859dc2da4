"""ZIPs and CSVs of catalogs for the import tests, made in memory."""

import csv
import io
import stat
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

HEADER = ["sku", "name", "description", "price", "category", "image"]


def catalog_csv(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def catalog_zip(rows, photos: dict[str, bytes], *, csv_name="catalog.csv") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(csv_name, catalog_csv(rows))
        for name, data in photos.items():
            archive.writestr(name, data)
    return out.getvalue()


def symlink_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("catalog.csv", catalog_csv([["A", "A", "", "", "", "x"]]))
        link = zipfile.ZipInfo("x")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return out.getvalue()


def as_upload(data: bytes, name: str) -> SimpleUploadedFile:
    kind = "application/zip" if name.endswith(".zip") else "text/csv"
    return SimpleUploadedFile(name, data, content_type=kind)

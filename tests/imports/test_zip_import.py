"""Importing a ZIP of photos with a CSV: products by SKU, photos by bytes, every
failure in the report, unsafe archives refused whole."""

import io
import zipfile

import pytest

from catalog.models import Product, ProductImage
from imports.errors import ImportRefused
from imports.models import ImportJob
from imports.services import import_job_create, import_job_run
from tests.catalog.factories import CategoryFactory
from tests.images import noise_png, solid_jpeg
from tests.imports.archives import as_upload, catalog_zip, symlink_zip

pytestmark = pytest.mark.django_db


def _import(merchant, user, data, name="catalog.zip"):
    job = import_job_create(merchant=merchant, user=user, file=as_upload(data, name))
    return import_job_run(job_id=job.pk)


@pytest.fixture
def mugs():
    CategoryFactory(name="Kitchen", slug="kitchen")
    rows = [
        ["MUG-1", "Red mug", "A red mug", "9.50", "kitchen", "red.jpg|blue.png"],
        ["MUG-2", "Green mug", "", "", "Kitchen", "photos/green.jpg"],
        ["MUG-3", "No photo", "", "12", "", ""],
    ]
    photos = {
        "red.jpg": solid_jpeg((200, 30, 30)),
        "blue.png": noise_png(1),
        "photos/green.jpg": solid_jpeg((30, 200, 30)),
    }
    return catalog_zip(rows, photos)


def test_a_zip_creates_its_products_and_photos(merchant, merchant_user, mugs):
    job = _import(merchant, merchant_user, mugs)

    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.source == ImportJob.Source.ZIP
    assert (job.rows_total, job.rows_done, job.rows_failed) == (3, 3, 0)
    assert (job.products_created, job.images_created) == (3, 3)
    assert job.report == []
    red = Product.objects.get(merchant=merchant, sku="MUG-1")
    assert (red.name, red.description, str(red.price)) == (
        "Red mug",
        "A red mug",
        "9.50",
    )
    assert red.category.slug == "kitchen"
    assert sorted(red.images.values_list("original_name", flat=True)) == [
        "blue.png",
        "red.jpg",
    ]
    assert Product.objects.get(sku="MUG-2").images.count() == 1
    assert job.progress == 1.0


def test_running_the_same_import_again_creates_nothing(merchant, merchant_user, mugs):
    _import(merchant, merchant_user, mugs)
    products = list(Product.objects.values_list("pk", "sku", "name", "price"))
    images = list(ProductImage.objects.values_list("pk", "sha256", "product_id"))

    again = _import(merchant, merchant_user, mugs)

    assert again.status == ImportJob.Status.SUCCEEDED
    assert (again.products_created, again.products_updated) == (0, 0)
    assert (again.images_created, again.images_existing) == (0, 3)
    assert list(Product.objects.values_list("pk", "sku", "name", "price")) == products
    assert (
        list(ProductImage.objects.values_list("pk", "sha256", "product_id")) == images
    )


def test_a_photo_named_for_two_products_is_on_both_and_stored_once(
    merchant, merchant_user
):
    # Variants share photos: the second row's product gets the photo too.
    rows = [
        ["TEE-S", "Tee, small", "", "", "", "tee.jpg"],
        ["TEE-M", "Tee, medium", "", "", "", "tee.jpg"],
    ]
    job = _import(
        merchant, merchant_user, catalog_zip(rows, {"tee.jpg": solid_jpeg((9, 9, 200))})
    )

    assert (job.images_created, job.images_existing, job.rows_failed) == (2, 0, 0)
    small, medium = (Product.objects.get(sku=sku) for sku in ("TEE-S", "TEE-M"))
    assert small.images.count() == medium.images.count() == 1
    assert small.images.get().file.name == medium.images.get().file.name


def test_a_changed_row_updates_its_product_and_an_empty_cell_keeps_the_field(
    merchant, merchant_user, mugs
):
    _import(merchant, merchant_user, mugs)
    changed = catalog_zip([["MUG-1", "Big red mug", "", "", "", ""]], {})

    job = _import(merchant, merchant_user, changed)

    assert (job.products_created, job.products_updated) == (0, 1)
    red = Product.objects.get(sku="MUG-1")
    assert (red.name, red.description, str(red.price)) == (
        "Big red mug",
        "A red mug",
        "9.50",
    )


def test_bad_rows_and_bad_photos_are_reported_and_the_rest_imported(
    merchant, merchant_user
):
    rows = [
        ["", "No SKU", "", "", "", ""],
        ["P-1", "Bad price", "", "cheap", "", ""],
        ["P-2", "Unknown category", "", "", "nowhere", ""],
        ["P-3", "Missing and broken photos", "", "", "", "gone.jpg;broken.jpg;ok.jpg"],
        ["P-4", "Fine", "", "1", "", ""],
        ["P-5", "", "", "", "", ""],
    ]
    photos = {"broken.jpg": b"\xff\xd8not really a jpeg", "ok.jpg": solid_jpeg()}

    job = _import(merchant, merchant_user, catalog_zip(rows, photos))

    assert job.status == ImportJob.Status.SUCCEEDED
    assert (job.rows_done, job.rows_failed, job.images_failed) == (6, 4, 2)
    assert [(e["row"], e["sku"], e["image"], e["code"]) for e in job.report] == [
        (1, "", "", "sku_missing"),
        (2, "P-1", "", "invalid_price"),
        (3, "P-2", "", "unknown_category"),
        (4, "P-3", "gone.jpg", "not_in_archive"),
        (4, "P-3", "broken.jpg", "not_an_image"),
        (6, "P-5", "", "name_missing"),
    ]
    assert all(entry["message"] for entry in job.report)
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["P-3", "P-4"]
    assert Product.objects.get(sku="P-3").images.count() == 1


def test_a_photo_over_the_upload_limit_is_reported_without_being_read(
    merchant, merchant_user, settings
):
    settings.VITRINE_UPLOAD_MAX_BYTES = 1000
    data = catalog_zip(
        [["BIG", "Big", "", "", "", "big.png"]], {"big.png": noise_png(2, (200, 200))}
    )

    job = _import(merchant, merchant_user, data)

    assert [e["code"] for e in job.report] == ["file_too_large"]
    assert ProductImage.objects.count() == 0


def _zip_with_member(name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("catalog.csv", "sku,name,image\nA,A,x.jpg\n")
        archive.writestr(zipfile.ZipInfo(name), solid_jpeg())
    return out.getvalue()


@pytest.mark.parametrize(
    "name", ["../evil.jpg", "photos/../../evil.jpg", "/etc/evil.jpg", "C:/evil.jpg"]
)
def test_a_zip_with_a_traversal_or_absolute_name_is_refused_whole(
    merchant, merchant_user, name
):
    with pytest.raises(ImportRefused, match="unsafe file name") as refused:
        import_job_create(
            merchant=merchant,
            user=merchant_user,
            file=as_upload(_zip_with_member(name), "c.zip"),
        )
    assert refused.value.code == "unsafe_name"
    assert not ImportJob.objects.exists()


def test_a_zip_with_a_symbolic_link_is_refused(merchant, merchant_user):
    with pytest.raises(ImportRefused, match="symbolic link"):
        import_job_create(
            merchant=merchant,
            user=merchant_user,
            file=as_upload(symlink_zip(), "c.zip"),
        )


def test_a_zip_bomb_is_refused_from_its_directory(merchant, merchant_user, settings):
    settings.VITRINE_IMPORT_MAX_UNCOMPRESSED_BYTES = 1_000_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("catalog.csv", "sku,name,image\nA,A,zeros.bin\n")
        archive.writestr("zeros.bin", b"\0" * 5_000_000)
    assert len(out.getvalue()) < 50_000  # 5 MB that compress a hundredfold

    with pytest.raises(ImportRefused, match="unpacks to") as refused:
        import_job_create(
            merchant=merchant,
            user=merchant_user,
            file=as_upload(out.getvalue(), "c.zip"),
        )
    assert (refused.value.code, refused.value.status) == ("archive_too_large", 413)


def test_a_zip_with_too_many_members_is_refused(merchant, merchant_user, settings):
    settings.VITRINE_IMPORT_MAX_MEMBERS = 10
    photos = {f"{n}.jpg": b"x" for n in range(10)}
    data = catalog_zip([["A", "A", "", "", "", "0.jpg"]], photos)

    with pytest.raises(ImportRefused, match="holds 11 files") as refused:
        import_job_create(
            merchant=merchant, user=merchant_user, file=as_upload(data, "c.zip")
        )
    assert refused.value.code == "too_many_members"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"sku,title\nA,B\n", "csv_invalid"),  # no name column
        (b"", "csv_invalid"),
        (b"sku,name\n", "csv_invalid"),  # no rows
    ],
)
def test_a_csv_without_the_required_columns_or_rows_is_refused(
    merchant, merchant_user, data, code
):
    with pytest.raises(ImportRefused) as refused:
        import_job_create(
            merchant=merchant, user=merchant_user, file=as_upload(data, "c.csv")
        )
    assert refused.value.code == code


def test_a_zip_without_a_csv_is_refused(merchant, merchant_user):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.jpg", solid_jpeg())
    with pytest.raises(ImportRefused, match="exactly one CSV"):
        import_job_create(
            merchant=merchant,
            user=merchant_user,
            file=as_upload(out.getvalue(), "c.zip"),
        )


def test_a_task_delivered_twice_imports_its_batch_once(merchant, merchant_user, mugs):
    from imports.batches import import_job_run_batch

    job = import_job_create(
        merchant=merchant, user=merchant_user, file=as_upload(mugs, "c.zip")
    )
    import_job_run_batch(job_id=job.pk, start=0, queue_next=lambda start: None)
    import_job_run_batch(job_id=job.pk, start=0, queue_next=lambda start: None)

    job.refresh_from_db()
    assert (job.products_created, job.images_created, job.rows_done) == (3, 3, 3)

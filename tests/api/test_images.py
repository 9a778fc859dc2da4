"""Uploading photos, reading an image with its prediction, re-classifying."""

import numpy as np
import pytest
from PIL import Image

from catalog.models import ImageStatus, ProductImage
from classification.models import Prediction
from tests.api.conftest import assert_error, assert_list_queries_flat
from tests.catalog.factories import ProductFactory, upload
from tests.classification import queue_data
from tests.images import encode, mpo, noise_png, photo, photo_jpeg, solid_jpeg


@pytest.fixture
def product(merchant):
    return ProductFactory(merchant=merchant, name="Cup")


def images_url(product) -> str:
    return f"/api/v1/products/{product.pk}/images/"


def post_files(client, product, *files, **extra):
    return client.post(
        images_url(product), {"file": list(files)}, format="multipart", **extra
    )


def test_an_uploaded_photo_is_classified_and_readable_with_its_prediction(
    merchant_api, product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_files(merchant_api, product, upload(photo_jpeg("coffee")))
    assert response.status_code == 202, response.content
    (uploaded,) = response.json()["images"]
    assert uploaded["created"] is True
    assert uploaded["status"] == ImageStatus.PENDING

    body = merchant_api.get(f"/api/v1/images/{uploaded['id']}/").json()
    assert body["status"] == ImageStatus.CLASSIFIED
    assert (body["width"], body["height"], body["format"]) == (600, 400, "JPEG")
    prediction = body["prediction"]
    assert len(prediction["top_k"]) == 5
    assert prediction["top_k"][0]["category"] == "kitchen-drinkware"
    assert prediction["top_k"][0]["name"]
    assert prediction["model_version"]["name"]
    assert body["review"] is None
    assert body["file_url"].endswith(f"/api/v1/images/{uploaded['id']}/file/")
    download = merchant_api.get(body["file_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == photo_jpeg("coffee")


def test_several_photos_in_one_request_and_the_same_bytes_again(merchant_api, product):
    response = post_files(
        merchant_api,
        product,
        upload(noise_png(1), "a.png"),
        upload(noise_png(2), "b.png"),
    )
    assert response.status_code == 202
    first = response.json()["images"]
    assert [i["name"] for i in first] == ["a.png", "b.png"]
    again = post_files(merchant_api, product, upload(noise_png(1), "copy.png"))
    assert again.status_code == 200
    (image,) = again.json()["images"]
    assert (image["id"], image["created"]) == (first[0]["id"], False)
    assert ProductImage.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"just some text", 415, "not_an_image"),
        (solid_jpeg()[:200], 400, "corrupt_image"),
        (b"", 400, "empty_file"),
    ],
)
def test_files_that_are_not_usable_images_are_refused(
    merchant_api, product, data, status, code
):
    error = assert_error(
        post_files(merchant_api, product, upload(data, "bad.jpg")), status, code
    )
    assert error["details"]["files"][0]["name"] == "bad.jpg"
    assert not ProductImage.objects.exists()


def test_a_file_over_the_byte_limit_is_413(merchant_api, product, settings):
    settings.VITRINE_UPLOAD_MAX_BYTES = 1000
    error = assert_error(
        post_files(merchant_api, product, upload(noise_png(3))), 413, "file_too_large"
    )
    assert "limit" in error["message"]


def test_a_picture_over_the_pixel_limit_is_413(merchant_api, product, settings):
    settings.VITRINE_UPLOAD_MAX_PIXELS = 50 * 50
    assert_error(
        post_files(merchant_api, product, upload(noise_png(4, size=(60, 60)))),
        413,
        "too_many_pixels",
    )


def test_a_picture_over_the_decoded_size_limit_is_413(merchant_api, product, settings):
    # 60x60 is 10,800 bytes in RGB and 14,400 with an alpha channel.
    settings.VITRINE_UPLOAD_MAX_DECODED_BYTES = 12_000
    rgba = encode(Image.new("RGBA", (60, 60), (10, 20, 30, 128)), "PNG")
    error = assert_error(
        post_files(merchant_api, product, upload(rgba, "cutout.png")),
        413,
        "too_many_pixels",
    )
    assert "4 bytes each" in error["message"]
    assert not ProductImage.objects.exists()
    rgb = post_files(merchant_api, product, upload(noise_png(8, size=(60, 60))))
    assert rgb.status_code == 202, rgb.content


def test_a_large_16_bit_grayscale_png_is_decoded_once_per_request(
    merchant_api, product, monkeypatch
):
    from catalog.services import images as services

    decodes = []
    real_decode = services.decode_image

    def counting_decode(data, **limits):
        decodes.append(len(data))
        return real_decode(data, **limits)

    monkeypatch.setattr(services, "decode_image", counting_decode)
    array = np.zeros((1200, 1600), dtype=np.uint16)
    array[::20] = 65535
    data = encode(Image.fromarray(array), "PNG")
    response = post_files(merchant_api, product, upload(data, "scan.png"))
    assert response.status_code == 202, response.content
    assert decodes == [len(data)]
    image = ProductImage.objects.get()
    assert (image.width, image.height, image.format) == (1600, 1200, "PNG")


def test_a_multi_picture_jpeg_is_accepted_as_a_jpeg(merchant_api, product):
    data = mpo()
    response = post_files(merchant_api, product, upload(data, "IMG_0003.JPG"))
    assert response.status_code == 202, response.content
    (uploaded,) = response.json()["images"]
    body = merchant_api.get(f"/api/v1/images/{uploaded['id']}/").json()
    assert (body["format"], body["width"], body["height"]) == ("JPEG", 64, 48)
    download = merchant_api.get(body["file_url"])
    assert b"".join(download.streaming_content) == data


def test_classify_reads_a_multi_picture_jpeg_by_its_first_picture(merchant_api, db):
    data = encode(
        photo("coffee"), "MPO", save_all=True, append_images=[photo("chelsea")]
    )
    response = merchant_api.post(
        "/api/v1/classify/", {"file": upload(data, "cup.jpg")}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["top_k"][0]["category"] == "kitchen-drinkware"


def test_a_format_we_do_not_list_is_415_not_a_server_error(
    merchant_api, product, monkeypatch
):
    # Stands for any format a Pillow reader may report that the platform does
    # not list (MPO was one).
    from imaging import decode as images

    monkeypatch.delitem(images.READ_AS, "MPO")
    error = assert_error(
        post_files(merchant_api, product, upload(mpo(), "IMG_0004.JPG")),
        415,
        "unsupported_media_type",
    )
    assert error["details"]["files"][0]["code"] == "unsupported_media_type"
    assert not ProductImage.objects.exists()


def test_one_bad_file_stores_none_of_the_batch(merchant_api, product):
    response = post_files(
        merchant_api,
        product,
        upload(noise_png(5), "good.png"),
        upload(b"nope", "bad.png"),
        upload(b"", "empty.png"),
    )
    error = assert_error(response, 415, "not_an_image")
    assert [f["name"] for f in error["details"]["files"]] == ["bad.png", "empty.png"]
    assert not ProductImage.objects.exists()


def test_too_many_files_in_one_request(merchant_api, product, settings):
    settings.VITRINE_UPLOAD_MAX_FILES = 1
    files = [upload(noise_png(n), f"{n}.png") for n in (6, 7)]
    assert_error(post_files(merchant_api, product, *files), 400, "invalid")
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 1
    files = [upload(noise_png(n), f"{n}.png") for n in (6, 7)]
    assert_error(post_files(merchant_api, product, *files), 413, "request_too_large")
    assert not ProductImage.objects.exists()


def test_an_upload_needs_multipart_and_a_file(merchant_api, product):
    assert_error(
        merchant_api.post(images_url(product), {"file": "x"}, format="json"),
        415,
        "unsupported_media_type",
    )
    error = assert_error(
        merchant_api.post(images_url(product), {}, format="multipart"), 400, "invalid"
    )
    assert "file" in error["details"]


def test_another_merchants_image_is_404(merchant_api, other_membership):
    theirs = queue_data.prediction(merchant=other_membership.merchant).image
    for url in (f"/api/v1/images/{theirs.pk}/", f"/api/v1/images/{theirs.pk}/file/"):
        assert_error(merchant_api.get(url), 404, "not_found")
    body = merchant_api.get("/api/v1/images/").json()
    assert body["count"] == 0


def test_an_image_shows_its_latest_review(reviewer_api, merchant_api, merchant):
    prediction = queue_data.prediction(merchant=merchant)
    reviewer_api.post(
        f"/api/v1/predictions/{prediction.pk}/review/", {"decision": "accepted"}
    )
    body = merchant_api.get(f"/api/v1/images/{prediction.image_id}/").json()
    assert body["status"] == ImageStatus.REVIEWED
    assert body["prediction"]["status"] == Prediction.Status.ACCEPTED
    assert body["review"]["decision"] == "accepted"
    assert body["review"]["final_category"] == "apparel"


def test_the_image_list_costs_the_same_queries_whatever_the_page_size(
    merchant_api, staff_api, merchant
):
    for _ in range(12):
        queue_data.prediction(merchant=merchant)
    for client in (merchant_api, staff_api):
        assert_list_queries_flat(client, "/api/v1/images/", large=12, budget=8)


def test_staff_reclassify_an_image_the_active_version_has_not_seen(
    staff_api, merchant_api, merchant, django_capture_on_commit_callbacks
):
    old = queue_data.prediction(merchant=merchant, with_file=True)
    url = f"/api/v1/images/{old.image_id}/reclassify/"
    assert_error(merchant_api.post(url), 403, "permission_denied")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(url)
    assert response.status_code == 202, response.content
    assert response.json()["queued"] is True
    current = Prediction.objects.get(image_id=old.image_id, is_current=True)
    assert current.model_version_id == response.json()["model_version"]["id"]
    assert current.pk != old.pk
    again = staff_api.post(url)
    assert (again.status_code, again.json()["queued"]) == (200, False)
    assert_error(staff_api.post("/api/v1/images/999999/reclassify/"), 404)

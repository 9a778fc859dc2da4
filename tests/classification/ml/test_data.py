"""Listing labelled images, CSV manifests, Fashion-MNIST files and splits."""

import gzip
import io
import struct
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from classification.ml.data import (
    DataError,
    UnreadableImage,
    csv_manifest,
    image_folder,
    open_rgb,
    stratified_split,
)
from classification.ml.fashion_data import fashion_mnist_load, fashion_mnist_prepare
from imaging.decode import decode_image
from imaging.errors import ImageRejected
from tests.classification.synthetic import shapes_folder
from tests.images import encode, mpo


def test_an_image_folder_lists_its_classes_and_skips_other_files(tmp_path):
    shapes_folder(tmp_path, per_class=2)
    (tmp_path / "red-circles" / "notes.txt").write_text("hello")
    (tmp_path / "red-circles" / ".DS_Store").write_bytes(b"\0")
    data = image_folder(tmp_path)
    assert data.classes == ["blue-squares", "green-triangles", "red-circles"]
    assert len(data.samples) == 6
    assert [reason for _, reason in data.skipped] == ["not an image file name"]
    assert Counter(data.labels().tolist()) == {0: 2, 1: 2, 2: 2}


def test_a_missing_or_empty_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="is not a folder"):
        image_folder(tmp_path / "nowhere")
    (tmp_path / "empty-class").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        image_folder(tmp_path)


def test_a_csv_manifest_skips_rows_without_label_or_file(tmp_path):
    shapes_folder(tmp_path / "images", classes=["red-circles"], per_class=3)
    images = tmp_path / "images" / "red-circles"
    for i, path in enumerate(sorted(images.iterdir())):
        path.rename(tmp_path / "images" / f"{i}.png")
    (tmp_path / "labels.csv").write_text(
        "id,kind\n0,Circle\n1,\n2,Circle\n9,Circle\n", encoding="utf-8"
    )
    data = csv_manifest(
        tmp_path,
        tmp_path / "labels.csv",
        image_column="id",
        label_column="kind",
        extension=".png",
    )
    assert [s.label for s in data.samples] == ["Circle", "Circle"]
    assert sorted(reason for _, reason in data.skipped) == [
        "file not found",
        "no label",
    ]
    with pytest.raises(DataError, match="no column 'label'"):
        csv_manifest(
            tmp_path, tmp_path / "labels.csv", image_column="id", label_column="label"
        )


def test_stratified_split_is_reproducible_disjoint_and_per_class():
    labels = np.array([0] * 40 + [1] * 20 + [2] * 2)
    first = stratified_split(labels, val_fraction=0.25, test_fraction=0.25, seed=3)
    again = stratified_split(labels, val_fraction=0.25, test_fraction=0.25, seed=3)
    other = stratified_split(labels, val_fraction=0.25, test_fraction=0.25, seed=4)
    assert first == again
    assert first != other
    every = first["train"] + first["val"] + first["test"]
    assert sorted(every) == list(range(len(labels)))
    assert Counter(labels[first["val"]].tolist()) == {0: 10, 1: 5}
    assert Counter(labels[first["test"]].tolist()) == {0: 10, 1: 5}
    # Too few images of class 2 to hold any out: both train.
    assert Counter(labels[first["train"]].tolist())[2] == 2


def test_stratified_split_refuses_fractions_that_leave_nothing_to_train():
    with pytest.raises(ValueError):
        stratified_split([0, 1], val_fraction=0.5, test_fraction=0.5)


def test_an_unreadable_file_raises_unreadable_image(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(UnreadableImage):
        open_rgb(bad)
    with pytest.raises(UnreadableImage, match="cannot open"):
        open_rgb(tmp_path / "missing.jpg")


def test_an_unreadable_image_is_rejected_with_a_code_and_a_short_reason(tmp_path):
    with pytest.raises(ImageRejected) as error:
        open_rgb(b"hello, this is text")
    assert isinstance(error.value, UnreadableImage)
    assert (error.value.code, str(error.value)) == ("not_an_image", "not an image")
    truncated = encode(Image.new("RGB", (400, 300), (10, 200, 30)), "JPEG")
    with pytest.raises(UnreadableImage) as error:
        open_rgb(truncated[: len(truncated) // 2])
    assert error.value.code == "corrupt_image"
    assert str(error.value).startswith("damaged image: ")
    with pytest.raises(UnreadableImage) as error:
        open_rgb(tmp_path / "missing.jpg")
    assert error.value.code == "cannot_open"


def _rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    return encode(Image.new("RGB", (60, 20), (255, 0, 0)), "JPEG", exif=exif)


def test_training_reads_the_pixels_an_upload_decodes():
    sixteen = np.tile(np.arange(0, 65536, 512, dtype=np.uint16), (8, 1))
    palette = Image.new("P", (10, 10), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.putpixel((1, 1), 1)
    files = [
        _rotated_jpeg(),
        encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG"),
        encode(Image.fromarray(sixteen), "PNG"),
        encode(palette, "PNG", transparency=0),
        encode(Image.new("LA", (10, 10), (40, 128)), "PNG"),
        mpo(colors=[(250, 0, 0), (0, 0, 250)]),
    ]
    for data in files:
        uploaded = decode_image(data, max_pixels=10_000_000).image
        assert np.array_equal(np.asarray(open_rgb(data)), np.asarray(uploaded))


def test_training_reads_formats_uploads_refuse():
    # torchvision's ImageFolder lists BMP and TIFF files; uploads take neither.
    for fmt in ("BMP", "TIFF"):
        data = encode(Image.new("RGB", (8, 6), (0, 200, 0)), fmt)
        with pytest.raises(ImageRejected):
            decode_image(data, max_pixels=10_000_000)
        image = open_rgb(data)
        assert (image.mode, image.size, image.getpixel((0, 0))) == (
            "RGB",
            (8, 6),
            (0, 200, 0),
        )


def _write_idx(folder, prefix, images, labels):
    n = len(labels)
    with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
    with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 2049, n) + labels.tobytes())


def test_training_images_see_transparency_as_white_like_uploads_do():
    # An RGB PNG whose black is marked transparent (tRNS), and a cut-out with
    # an alpha channel: both are white where transparent, as on upload.
    for image, options in (
        (Image.new("RGB", (4, 4), (0, 0, 0)), {"transparency": (0, 0, 0)}),
        (Image.new("RGBA", (4, 4), (0, 0, 0, 0)), {}),
    ):
        buffer = io.BytesIO()
        image.save(buffer, "PNG", **options)
        decoded = open_rgb(buffer.getvalue())
        assert decoded.mode == "RGB"
        assert decoded.getpixel((0, 0)) == (255, 255, 255)


def test_fashion_mnist_is_read_through_torchvision_from_gzipped_idx_files(tmp_path):
    source = tmp_path / "idx"
    source.mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = np.arange(12, dtype=np.uint8) % 10
    _write_idx(source, "train", images, labels)
    _write_idx(source, "t10k", images[:4], labels[:4])
    root = fashion_mnist_prepare(source, tmp_path / "root")
    data, targets, classes = fashion_mnist_load(root, train=True)
    assert data.shape == (12, 28, 28)
    assert (data.numpy() == images).all()
    assert targets.tolist() == labels.tolist()
    assert classes[0] == "T-shirt/top" and len(classes) == 10
    test_data, _, _ = fashion_mnist_load(root, train=False)
    assert len(test_data) == 4


def test_fashion_mnist_without_its_files_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="has no train-images-idx3-ubyte"):
        fashion_mnist_prepare(tmp_path, tmp_path / "root")

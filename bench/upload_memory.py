"""Peak extra memory and time of one upload request, for the worst files the
upload limits accept.

    .venv/bin/python bench/upload_memory.py [--project DIR] [--only NAME]

Builds, for the limits of the project's settings (VITRINE_UPLOAD_MAX_BYTES,
VITRINE_UPLOAD_MAX_PIXELS and VITRINE_UPLOAD_MAX_DECODED_BYTES where the project
has it), the largest file of each kind that decodes to the most memory: 16-bit
grayscale PNG, RGBA PNG, grayscale-with-alpha PNG, palette PNG with a transparent
colour, and EXIF-rotated RGB and CMYK JPEGs. Each is posted to
``/api/v1/products/<id>/images/`` through Django's test client, in a fresh
process of its own on a scratch SQLite database and media folder; the queued
classification goes to an in-memory broker, not run (the worker is another
process).

Peak extra memory is the process's resident high-water mark
(``getrusage(RUSAGE_SELF).ru_maxrss``) after the request minus its resident size
just before it. Before the request, the process has set Django up and uploaded a
small photo (imports, plugins, the first query), so its high-water mark is then
its resident size and everything above it is the upload's. Pillow allocates
outside Python's allocator, which is why tracemalloc alone would miss most of it.
The floor it is held to: at most 4x the decoded 8-bit RGB size (3 bytes a pixel)
of the file, and under 2 s.

``--project`` runs another checkout's code (its settings, services and views)
with this script's files, to compare.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR_RATIO = 4.0
FLOOR_SECONDS = 2.0


# --- The files ---------------------------------------------------------------


def _limits(project: Path) -> dict:
    """The upload limits of ``project``'s settings, read in a process of its own."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({'bytes': s.VITRINE_UPLOAD_MAX_BYTES,"
        " 'pixels': s.VITRINE_UPLOAD_MAX_PIXELS,"
        " 'decoded': getattr(s, 'VITRINE_UPLOAD_MAX_DECODED_BYTES', None)}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env=_env(project, Path(tempfile.gettempdir())),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _side(limits: dict, bytes_per_pixel: int) -> int:
    """The side of the largest square the pixel and decoded-size limits accept."""
    pixels = limits["pixels"]
    if limits["decoded"] is not None:
        pixels = min(pixels, limits["decoded"] // bytes_per_pixel)
    return int(pixels**0.5)


def _stripes(side: int, mode: str, on, off):
    """A picture of horizontal stripes: realistic enough to decode, small to send."""
    from PIL import Image, ImageDraw

    image = Image.new(mode, (side, side), off)
    draw = ImageDraw.Draw(image)
    for top in range(0, side, 64):
        draw.rectangle((0, top, side, top + 15), fill=on)
    return image


def _rotated_exif():
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees: the decode transposes it
    return exif


def build_files(limits: dict, folder: Path) -> list[tuple[str, Path, int]]:
    """Write every candidate into ``folder``: (name, path, pixels)."""
    import numpy as np
    from PIL import Image

    def png16():
        side = _side(limits, 2)
        array = np.zeros((side, side), dtype=np.uint16)
        array[::64] = 40000
        return side, Image.fromarray(array), "PNG", {}

    def rgba():
        side = _side(limits, 4)
        return side, _stripes(side, "RGBA", (200, 30, 30, 128), (0, 0, 0, 0)), "PNG", {}

    def gray_alpha():
        side = _side(limits, 2)
        return side, _stripes(side, "LA", (90, 200), (0, 0)), "PNG", {}

    def palette():
        side = _side(limits, 1)
        image = _stripes(side, "P", 1, 0)
        image.putpalette([255, 255, 255, 200, 30, 30] + [0] * 762)
        return side, image, "PNG", {"transparency": 0}

    def jpeg_rgb():
        side = _side(limits, 3)
        return (
            side,
            _stripes(side, "RGB", (200, 30, 30), (240, 240, 240)),
            "JPEG",
            {"exif": _rotated_exif(), "quality": 90},
        )

    def jpeg_cmyk():
        side = _side(limits, 4)
        return (
            side,
            _stripes(side, "CMYK", (0, 200, 200, 0), (10, 10, 10, 0)),
            "JPEG",
            {"exif": _rotated_exif(), "quality": 90},
        )

    files = []
    kinds = {
        "16-bit grayscale PNG": png16,
        "RGBA PNG": rgba,
        "grayscale + alpha PNG": gray_alpha,
        "palette PNG, transparent colour": palette,
        "RGB JPEG, EXIF-rotated": jpeg_rgb,
        "CMYK JPEG, EXIF-rotated": jpeg_cmyk,
    }
    for number, (name, make) in enumerate(kinds.items()):
        side, image, fmt, params = make()
        out = io.BytesIO()
        image.save(out, format=fmt, **params)
        if out.tell() > limits["bytes"]:
            raise SystemExit(f"{name}: {out.tell()} bytes, over the byte limit")
        path = folder / f"{number}.{fmt.lower()}"
        path.write_bytes(out.getvalue())
        files.append((name, path, side * side))
    return files


# --- One upload in a fresh process --------------------------------------------


def _env(project: Path, var: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "AWS_", "VITRINE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DEBUG="true",
        DJANGO_SECRET_KEY="bench-only-not-secret",
        DJANGO_ALLOWED_HOSTS="testserver",
        VITRINE_VAR_DIR=str(var),
        # Queued, not run: classification is the worker's.
        CELERY_BROKER_URL="memory://localhost/",
        PYTHONPATH=str(project),
        PYTHONUNBUFFERED="1",
    )
    return env


def child(path: Path) -> None:
    """Upload ``path`` once and print the measurement as JSON (in the child)."""
    import resource

    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from PIL import Image

    from accounts.models import Membership, Merchant, User
    from catalog.models import Product

    merchant = Merchant.objects.create(
        name=f"Bench {os.getpid()}", slug=f"bench-{os.getpid()}"
    )
    user = User.objects.create_user(username=f"bench{os.getpid()}")
    Membership.objects.create(user=user, merchant=merchant)
    product = Product.objects.create(merchant=merchant, sku="B-1", name="Bench")
    client = Client()
    client.force_login(user)
    url = f"/api/v1/products/{product.pk}/images/"

    def post(name: str, data: bytes):
        return client.post(url, {"file": SimpleUploadedFile(name, data)})

    warm = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(warm, format="PNG")
    assert post("warm.png", warm.getvalue()).status_code == 202

    data = path.read_bytes()
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as statm:
        before = int(statm.read().split()[1]) * page
    started, cpu = time.perf_counter(), time.process_time()
    response = post(path.name, data)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "status": response.status_code,
                "body": response.content.decode()[:300],
                "extra": peak - before,
                "seconds": seconds,
                "cpu": cpu,
            }
        )
    )


def measure(project: Path, var: Path, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(path)],
        cwd=project,
        env=_env(project, var),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--only", help="measure only the kinds whose name has this")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0

    project = args.project.resolve()
    limits = _limits(project)
    print(
        f"limits: {limits['bytes']:,} bytes, {limits['pixels']:,} pixels, decoded "
        + (f"{limits['decoded']:,} bytes" if limits["decoded"] else "unlimited")
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="vitrine-bench-") as scratch:
        var = Path(scratch)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=project,
            env=_env(project, var),
            check=True,
        )
        for name, path, pixels in build_files(limits, var):
            if args.only and args.only.lower() not in name.lower():
                continue
            result = measure(project, var, path)
            rgb = 3 * pixels
            ratio = result["extra"] / rgb
            print(
                f"{name:32} {pixels / 1e6:5.1f} MP  {path.stat().st_size / 1e6:6.2f} MB"
                f"  HTTP {result['status']}  peak extra {result['extra'] / 1e6:7.0f} MB"
                f" = {ratio:4.2f}x its 8-bit RGB ({rgb / 1e6:.0f} MB)"
                f"  {result['seconds']:5.2f} s ({result['cpu']:.2f} s CPU)"
            )
            if result["status"] >= 300:
                print(f"    answer: {result['body']}")
            results.append((name, ratio, result["seconds"], result["cpu"]))
    if results:
        most = max(results, key=lambda r: r[1])
        slowest = max(results, key=lambda r: r[2])
        print(
            f"most memory: {most[0]}, {most[1]:.2f}x (floor {FLOOR_RATIO:.0f}x: "
            + ("within" if most[1] <= FLOOR_RATIO else "OVER")
            + f"); slowest: {slowest[0]}, {slowest[2]:.2f} s, {slowest[3]:.2f} s "
            f"CPU (floor {FLOOR_SECONDS:.0f} s: "
            + ("within" if slowest[2] < FLOOR_SECONDS else "OVER")
            + "; wall time grows with the machine's load)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

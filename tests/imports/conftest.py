"""A photo server on loopback for the URL imports, started by the tests."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.images import noise_png, solid_jpeg

PHOTOS = {"/red.jpg": solid_jpeg((200, 30, 30)), "/noise.png": noise_png(3)}


class PhotoHandler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        PhotoHandler.requests.append(self.path)
        if self.path in PHOTOS:
            self._answer(200, PHOTOS[self.path])
        elif self.path == "/to-red":
            self._redirect("/red.jpg")
        elif self.path == "/to-private":
            self._redirect("http://10.0.0.1/red.jpg")
        elif self.path == "/to-metadata":
            self._redirect("http://169.254.169.254/latest/meta-data/")
        elif self.path == "/loop":
            self._redirect("/loop")
        elif self.path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(10**9))
            self.end_headers()
        elif self.path == "/huge-streamed":
            self.send_response(200)
            self.end_headers()  # no length: the body runs until the limit
            try:
                for _ in range(200):
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                pass
        elif self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
        else:
            self._answer(404, b"not here")

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def photo_server(settings):
    """The server's base URL; photo URLs may reach loopback (and only it)."""
    settings.VITRINE_IMPORT_FETCH_ALLOW_NETWORKS = ["127.0.0.0/8"]
    settings.VITRINE_IMPORT_FETCH_TIMEOUT = 2.0
    PhotoHandler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), PhotoHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)

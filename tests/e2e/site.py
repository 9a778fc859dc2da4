"""Drive a running Vitrine over HTTP as a merchant's browser would."""

import time

import requests


class Site:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _csrf(self, path: str) -> str:
        response = self.http.get(self.url(path), timeout=30)
        response.raise_for_status()
        return self.http.cookies["csrftoken"]

    def login(self, username: str, password: str) -> None:
        token = self._csrf("/accounts/login/")
        response = self.http.post(
            self.url("/accounts/login/"),
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": self.url("/accounts/login/")},
            timeout=30,
        )
        response.raise_for_status()
        assert "sessionid" in self.http.cookies, "login did not start a session"

    def create_product(self, sku: str, name: str) -> int:
        token = self._csrf("/products/new/")
        response = self.http.post(
            self.url("/products/new/"),
            data={"sku": sku, "name": name, "csrfmiddlewaretoken": token},
            headers={"Referer": self.url("/products/new/")},
            timeout=30,
        )
        response.raise_for_status()
        # Redirected to /products/<id>/
        return int(response.url.rstrip("/").rsplit("/", 1)[1])

    def upload(self, product_id: int, data: bytes, name: str = "photo.jpg") -> dict:
        path = f"/products/{product_id}/images/"
        response = self.http.post(
            self.url(path),
            files={"file": (name, data, "image/jpeg")},
            headers={
                "Accept": "application/json",
                "X-CSRFToken": self.http.cookies["csrftoken"],
                "Referer": self.url(f"/products/{product_id}/"),
            },
            timeout=120,
        )
        return {"status_code": response.status_code, **response.json()}

    def status(self, product_id: int) -> dict:
        response = self.http.get(
            self.url(f"/products/{product_id}/status/"),
            headers={"Accept": "application/json"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def wait_classified(self, product_id: int, *, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(product_id)
            if status["images"] and not status["in_flight"]:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"still classifying after {timeout} s: {status['images']}"
                )
            time.sleep(0.25)

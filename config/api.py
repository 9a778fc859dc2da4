"""Plumbing every API view shares: the schema generator and retry-safe creates
with ``Idempotency-Key``.

The routes live in ``config/api_urls.py``, the error shape in
``config/exceptions.py``, pagination and throttles in ``config/pagination.py`` and
``config/throttling.py`` (apart, because DRF imports those while it loads).
"""

import hashlib
import json
from collections.abc import Collection
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from accounts import services as account_services
from accounts.api.permissions import (
    merchant_for_create,
    merchant_unchanged,
    view_capability,
)
from accounts.models import Merchant
from accounts.roles import CAPABILITIES, Role
from config.errors import InvalidInput

# --- Schema -------------------------------------------------------------------

_ERROR_DESCRIPTIONS = {
    "400": "The request is invalid; `details` names each field's problems.",
    "401": "No valid credentials were given.",
    "403": "The credentials are valid but not allowed to do this.",
    "404": "No such object, or it belongs to another merchant.",
    "405": "The method is not allowed on this path.",
    "409": "The request conflicts with the object's state or a concurrent request.",
    "413": "The request or one of its files is too large.",
    "415": "The request's content type, or a file, is not accepted.",
    "429": "Too many requests; retry after the `Retry-After` seconds.",
    "500": "Something failed on the server.",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the error answers every operation can give.

    Each operation documents the shared error body for 400, 401, 403, 404, 405,
    429 and 500; views add 409, 413 and 415 where they can happen through
    ``extra_error_codes`` on the view.
    """

    def get_auth(self):
        auths = super().get_auth()
        capability = view_capability(self.view, self.method)
        if capability is not None and Role.ANONYMOUS in CAPABILITIES[capability]:
            auths.append({})  # no credentials needed
        return auths

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        from config.exceptions import ErrorSerializer

        codes = ["400", "401", "403", "404", "405", "429", "500"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]  # a body too large, or of a type not read
        parameters = {p.get("name") for p in operation.get("parameters", [])}
        if "Idempotency-Key" in parameters:
            codes.append("409")
        codes += [str(c) for c in getattr(self.view, "extra_error_codes", ())]
        error_component = self.resolve_serializer(ErrorSerializer, "response")
        for code in dict.fromkeys(codes):
            operation["responses"].setdefault(
                code,
                {
                    "content": {"application/json": {"schema": error_component.ref}},
                    "description": _ERROR_DESCRIPTIONS[code],
                },
            )
        return operation


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="Any unique string (a UUID) of at most 255 characters. A retry "
    "with the same key within 24 hours answers what the first request answered "
    "instead of creating again. Reusing a key for different data answers 409.",
)


# --- Idempotent creates -------------------------------------------------------

MAX_IDEMPOTENCY_KEY_LENGTH = 255


def read_only_slug(slug_field: str) -> serializers.SlugRelatedField:
    """A related object shown by one of its fields (``null`` when there is none)."""
    return serializers.SlugRelatedField(
        slug_field=slug_field, read_only=True, allow_null=True
    )


def validated(serializer_class, request: Request, *, partial: bool = False) -> dict:
    """The request's body as ``serializer_class`` validates it; a 400 otherwise."""
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def write_schemas(
    *,
    request,
    response,
    created=None,
    create: str | None = None,
    update: str | None = None,
    partial_update: str | None = None,
) -> dict:
    """The schemas of a viewset's create, update and partial_update, for
    ``extend_schema_view``: ``request`` in, ``response`` out (``created`` for a
    create, when it answers more); a create takes an Idempotency-Key."""
    return {
        "create": extend_schema(
            description=create,
            request=request,
            responses={201: created or response},
            parameters=[IDEMPOTENCY_KEY_PARAMETER],
        ),
        "update": extend_schema(
            description=update, request=request, responses=response
        ),
        "partial_update": extend_schema(
            description=partial_update, request=request, responses=response
        ),
    }


def request_fingerprint(request: Request) -> str:
    """Hash the method, path and data of a request, files included by content."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    data = request.data
    if hasattr(data, "lists"):  # form data: several values (files) per name
        items = sorted(data.lists(), key=lambda item: item[0])
    elif isinstance(data, dict):
        items = sorted((name, [value]) for name, value in data.items())
    else:
        items = [("", [data])]
    for name, values in items:
        for value in values:
            digest.update(name.encode() + b"=")
            if isinstance(value, UploadedFile):
                for chunk in value.chunks():
                    digest.update(chunk)
                value.seek(0)
            else:
                digest.update(json.dumps(value, cls=JSONEncoder).encode())
            digest.update(b"\n")
    return digest.hexdigest()


WITHHELD_HEADER = "Idempotent-Withheld"


def idempotent(
    request: Request, create, *, secret_fields: Collection[str] = ()
) -> Response:
    """Run ``create()`` once per ``Idempotency-Key``; replay its answer on retries.

    Only successful answers are stored: a request that failed (invalid data, a
    server error) releases its key, so the client's retry runs again.

    ``secret_fields`` name top-level fields of the answer shown only once (a
    signing secret, a token's key): they are never stored, so a replay answers
    without them and names them in the ``Idempotent-Withheld`` header. Whoever
    lost the first answer rotates the secret (or makes a new token) instead.
    """
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return create()
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidInput(
            f"The Idempotency-Key is longer than {MAX_IDEMPOTENCY_KEY_LENGTH} "
            "characters.",
            code="invalid_idempotency_key",
        )
    if not key.isprintable():
        # A NUL cannot be stored (PostgreSQL refuses it), nor other control
        # characters be told apart in a log.
        raise InvalidInput(
            "The Idempotency-Key holds control characters.",
            code="invalid_idempotency_key",
        )
    # An IdempotencyConflict (409) answers through the exception handler.
    record = account_services.idempotency_record_claim(
        user=request.user, key=key, fingerprint=request_fingerprint(request)
    )
    if record.response_status is not None:
        response = Response(record.response_body, status=record.response_status)
        response["Idempotent-Replayed"] = "true"
        if secret_fields:
            response[WITHHELD_HEADER] = ", ".join(secret_fields)
        return response
    try:
        response = create()
    except BaseException:
        account_services.idempotency_record_release(record=record)
        raise
    if 200 <= response.status_code < 300:
        stored = response.data
        if secret_fields:
            if not isinstance(stored, dict):
                raise TypeError("secret_fields needs an answer that is an object.")
            stored = {
                name: value
                for name, value in stored.items()
                if name not in secret_fields
            }
        body = json.loads(json.dumps(stored, cls=JSONEncoder))
        account_services.idempotency_record_complete(
            record=record, status=response.status_code, body=body
        )
    else:
        account_services.idempotency_record_release(record=record)
    return response


# A viewset whose create runs once per Idempotency-Key (see ``idempotent``): it
# writes in ``create_once(request)``; ``secret_fields`` as for ``idempotent``.
# Comments, not docstrings, on these mixins: the API schema would take a
# docstring for the description of each view that has none of its own.
class IdempotentCreate:
    secret_fields: Collection[str] = ()

    def create(self, request, *args, **kwargs):
        return idempotent(
            request, lambda: self.create_once(request), secret_fields=self.secret_fields
        )


# The bodies of the writes of a viewset over one merchant's rows (see
# ``accounts.api.permissions.MerchantScoped``), which may name a ``merchant``.
# The messages answer a body that names the wrong one: ``merchant_foreign``
# another merchant than the caller's, ``merchant_missing`` none from a platform
# admin, ``merchant_moved`` another merchant than the row's.
class MerchantWrites:
    merchant_foreign: str
    merchant_missing = "A platform admin must name the merchant."
    merchant_moved: str

    def create_input(self, serializer_class) -> tuple[Merchant, dict]:
        """The merchant a new row belongs to, and the other fields of the body."""
        fields = validated(serializer_class, self.request)
        merchant = merchant_for_create(
            self.request,
            self,
            chosen=fields.pop("merchant", None),
            foreign=self.merchant_foreign,
            missing=self.merchant_missing,
        )
        return merchant, fields

    def update_input(self, serializer_class, *, partial: bool) -> tuple[Any, dict]:
        """The row being updated, and the fields of the body but its merchant."""
        instance = self.get_object()
        fields = validated(serializer_class, self.request, partial=partial)
        merchant_unchanged(
            chosen=fields.pop("merchant", None),
            current_id=instance.merchant_id,
            message=self.merchant_moved,
        )
        return instance, fields

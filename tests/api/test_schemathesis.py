"""Property-based run of schemathesis against the served OpenAPI schema.

The WSGI application is called in-process, inside the test's transaction, as a
merchant and as staff. Each operation gets a bounded number of generated
requests (valid and invalid); every answer must be no server error and must
match the schema (status code, content type, headers and body), and invalid
input must be refused. Valid-looking input may still be refused: a category slug
that does not exist fits the schema but not the data (positive_data_acceptance
is not checked).
Bounded to stay well under three minutes: ``VITRINE_FUZZ_EXAMPLES`` (default 15)
examples per operation and generation mode, the same ones on every run unless
``VITRINE_FUZZ_RANDOM=1``.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.services import api_token_create
from tests.catalog.factories import ProductFactory
from tests.classification import queue_data

EXAMPLES = int(os.environ.get("VITRINE_FUZZ_EXAMPLES", "15"))
# CI runs the same examples every time; VITRINE_FUZZ_RANDOM=1 explores new ones.
RANDOM = os.environ.get("VITRINE_FUZZ_RANDOM") == "1"
# Operations that start real model work (training, re-classifying everything,
# switching the active version) are exercised by their own tests, not fuzzed.
HEAVY = r"^/api/v1/models/(train|reclassify|rollback|\{id\}/activate)/$"

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def api_schema(settings_override):
    # As Django's test client does: the requests share the test's transaction,
    # so the end of a request must not close the database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def settings_override(settings):
    # Generous budgets: the run makes many requests quickly on purpose.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(
            ("anon", "merchant", "staff", "classify", "token"), "100000/minute"
        ),
    }
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = True
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False


@pytest.fixture
def data(merchant, other_membership):
    """A little of everything, for the generated ids to land on sometimes."""
    for _ in range(3):
        product = ProductFactory(merchant=merchant)
        queue_data.prediction(product=product, with_file=True)
    queue_data.prediction(merchant=other_membership.merchant)


@pytest.fixture
def merchant_headers(merchant_user, data):
    return {"Authorization": f"Token {api_token_create(user=merchant_user)[1]}"}


@pytest.fixture
def staff_headers(staff_user, data):
    return {"Authorization": f"Token {api_token_create(user=staff_user)[1]}"}


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
)


def accepts_json(operation) -> bool:
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    return "application/json" in content


def fuzz(api_schema, headers: dict) -> None:
    """Run every operation's positive and negative cases; report all failures."""
    failures = []
    selected = api_schema.exclude(path_regex=HEAVY)
    if os.environ.get("VITRINE_FUZZ_ONLY"):  # a path regex, to look at one
        selected = selected.include(path_regex=os.environ["VITRINE_FUZZ_ONLY"])
    operations = selected.get_all_operations()
    for result in operations:
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            options = {"generation_mode": mode}
            if mode == GenerationMode.NEGATIVE and accepts_json(operation):
                # Form encoding cannot carry most schema-violating values (it
                # drops or flattens them), so invalid bodies are sent as JSON.
                options["media_type"] = "application/json"

            @given(case=operation.as_strategy(**options))
            @FUZZ
            def check(case):
                case.call_and_validate(
                    headers=headers, excluded_checks=[positive_data_acceptance]
                )

            try:
                check()
            except Unsatisfiable:
                pass  # no parameter or body to make invalid
            except (Exception, BaseExceptionGroup) as error:  # report them all
                failures.append(f"{operation.label} ({mode}): {error}")
    assert not failures, "\n\n".join(failures)


def test_the_api_honours_its_schema_as_a_merchant(api_schema, merchant_headers):
    fuzz(api_schema, merchant_headers)


def test_the_api_honours_its_schema_as_staff(api_schema, staff_headers):
    fuzz(api_schema, staff_headers)

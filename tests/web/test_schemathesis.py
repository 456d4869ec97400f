"""Property test of the whole API from its own OpenAPI document (schemathesis, if installed):
whatever the schema lets a client send, the answer is never a 5xx."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from server.config import Settings  # noqa: E402
from server.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("schemathesis")))


# Training streams run for seconds per generated case (30 epochs of batch 8 are real work): their
# own tests (tests/web/test_api_digits.py) check every bad input instead. The filter belongs on
# the lazy schema: schemathesis replaces the filters of the fixture's schema with these.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(
    path_regex=r"^/api/(digits/train|learn/kernel)$")


@pytest.fixture(scope="module")
def api_schema(app: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=10, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_answers_5xx_when_generated(case: Any) -> None:
    response = case.call()
    case.validate_response(response, checks=(not_a_server_error,))

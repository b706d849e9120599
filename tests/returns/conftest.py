"""Fixtures of the returns tests: Walmart's API mocked at the HTTP boundary with `responses`. The order
desk's fixtures and helpers serve both apps (one definition, in `tests/orders/conftest.py`); a root
`tests/conftest.py` is not used because other apps define fixtures of the same names differently."""

from tests.orders.conftest import (  # noqa: F401  (fixtures are registered by being imported here)
    after_commit,
    api_base,
    calls_to,
    listed_product,
    live_server_threads_finish,
    run_like_a_worker,
    walmart_api,
)


def walmart_calls(mock) -> list:
    """Every call except the token call."""
    return [call for call in mock.calls if not call.request.url.split("?")[0].endswith("/v3/token")]

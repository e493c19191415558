import pytest
from test_serve import *  # noqa
from test_serve import test_promotion_swaps_with_no_failed_request_and_a_corrupt_version_is_refused as body


@pytest.mark.parametrize("i", range(3))
def test_repeat(deployment, server, i):
    body(deployment, server)

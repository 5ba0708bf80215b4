"""The shared contract suite over every discovered architecture: built-ins and installed plugins alike.

The same checks plugin authors run through ``zoo.testing.parametrize_with_checks``; collecting none is an error.
"""

from zoo.testing import parametrize_with_checks


@parametrize_with_checks()
def test_contract(check):
    check()

"""The zoo's contract suite, run on this plugin: every check, at class counts 2, 3, 7 and 46."""

import zoo
from zoo.testing import parametrize_with_checks


def test_plugin_is_discovered():
    assert "{{name}}" in zoo.list_architectures()
    assert zoo.get("{{name}}").package == "{{package}}"


@parametrize_with_checks(["{{name}}"])
def test_zoo_contract(check):
    check()

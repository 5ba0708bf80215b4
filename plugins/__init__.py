"""The zoo's built-in architecture plugins, one module per architecture.

Installed as ``zoo.plugins`` and registered through the ``zoo.plugins`` entry-point group, exactly like a
third-party plugin. Their metadata is in the project's top-level ``registry.yaml``.
"""

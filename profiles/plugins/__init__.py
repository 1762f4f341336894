"""hermes-agent plugins shipped with the profile templates.

Each folder here is one plugin (`plugin.yaml` + `__init__.py` with `register(ctx)`). hermes loads a
profile's plugins from its own HERMES_HOME, so every profile gets a copy of these folders
(`profiles.shipped_plugins`) rather than a pointer to this package: the copy travels with the profile
through the registry and into containers, where this package is not installed.
"""

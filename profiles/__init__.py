"""Hermes profile templates, registry and lifecycle (built by the profile-registry issue)."""

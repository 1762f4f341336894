"""What the provisioning wing is told by the process that wires it (ops builds these from its
Settings): small frozen values, so that nothing here reads the environment or imports ops."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from profiles.templates import Connection

RunnerName = Literal["none", "process", "systemd", "docker"]


@dataclass(frozen=True)
class RunnerConfig:
    """How this host starts a profile's `hermes -p NAME gateway run` (TWILIGHT_PROFILE_RUNNER)."""

    name: RunnerName
    hermes_bin: str  # a name on PATH, or a path
    hermes_image: str  # the docker runner's image
    compose_dir: Path  # where the docker runner writes each profile's compose file


@dataclass(frozen=True)
class ProvisionerConfig:
    """Where paid users' profiles are made, from what, and how they are started."""

    state_dir: Path  # the data folder: the provisioner's lock files
    profiles_root: Path  # the registry's working copy; each profile's HERMES_HOME is <root>/profiles/<name>
    registry_remote: str  # the profile registry's bare repository (path or URL)
    connection: Connection  # what a new profile is wired to
    runner: RunnerConfig

"""Operations: settings, logging, metrics, the Starlette app and the `twilight` CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("twilight-drive")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"

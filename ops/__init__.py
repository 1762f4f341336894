"""Operations: settings, logging, metrics, the Starlette app and the `twilight` CLI."""

from citation import __version__

__all__ = ["__version__"]

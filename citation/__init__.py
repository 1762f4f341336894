"""Citations: the envelope models every tool answers with, and their units.

`__version__` is the distribution's: every cite names the server that served it (`served_by`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("twilight-drive")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"

SERVED_BY = f"twilight-drive/{__version__}"

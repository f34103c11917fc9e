"""sgdclaims: executable claim tests for how SGD learns."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sgdclaims")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+src"

__all__ = ["__version__"]

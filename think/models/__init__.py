"""Models: the registry's entries resolved to files (resolve), the embedded model (packaged),
what is installed and pulling or adding more (store), and downloads from the hub (download).

Callers resolve models through the package: `from think.models import resolve, ModelSpec`.
"""

from think.models.packaged import assemble_packaged
from think.models.resolve import (
    ModelSpec,
    entry_path,
    looks_like_path,
    on_server,
    resolve,
)

__all__ = ["ModelSpec", "assemble_packaged", "entry_path", "looks_like_path",
           "on_server", "resolve"]

"""The embedded default model: a Python package of chunks, joined once into one GGUF file."""

from __future__ import annotations

import importlib
from pathlib import Path

from think import paths
from think.errors import ModelError
from think.shared_files import exclusive


def packaged_target(package: str) -> tuple[Path, bool]:
    """Where a packaged model is assembled, and whether it is there whole, without
    assembling it (listing and `think doctor` must not write 250 MB)."""
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise ModelError(f"the model package '{package}' is not installed",
                         f"pip install {package.replace('_', '-')}") from None
    target = paths.models_dir() / module.MODEL_NAME
    size = sum(chunk.stat().st_size for chunk in module.chunk_paths())
    return target, target.is_file() and target.stat().st_size == size


def assemble_packaged(package: str) -> Path:
    """Join a chunked model package into one GGUF file, once; never a partial file in place."""
    target, whole = packaged_target(package)
    module = importlib.import_module(package)

    def assembled() -> bool:
        return packaged_target(package)[1]

    if whole:
        return target
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with exclusive(target):
            if not assembled():  # another run may have assembled it while this one waited
                module.assemble(output_path=partial, overwrite=True)  # verifies the SHA-256
                partial.replace(target)
    except OSError as exc:
        # A file where a folder belongs (or a folder where the model file goes) is not
        # fixed by freeing disk space: the fix names what is in the way.
        in_the_way = isinstance(exc, NotADirectoryError | IsADirectoryError | FileExistsError)
        hint = (f"move aside what is in the way of {target}, or set THINK_MODELS_DIR to a "
                "folder" if in_the_way else
                "free some disk space or set THINK_MODELS_DIR to a writable folder")
        raise ModelError(f"cannot write the model file to {target.parent}: {exc.strerror}",
                         hint) from None
    except ValueError as exc:
        partial.unlink(missing_ok=True)
        raise ModelError(f"the packaged model is damaged: {exc}", f"reinstall {package}") from None
    return target

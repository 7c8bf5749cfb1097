"""The child process of the extra-buffers probe: load a model with extra buffers on and
decode a little; extra_buffers.run_probe reads its exit status and its one line of output.

    python -m think.engine.llama.amx_probe MODEL
"""

from __future__ import annotations

import sys
from pathlib import Path

from think.config import LoadSettings
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.engine.llama.extra_buffers import PROBE_OK, PROBE_PROMPT


def main(model: str) -> int:
    """Load with extra buffers on, evaluate a prompt, decode two samples."""
    load = LoadSettings(extra_buffers="on", n_gpu_layers=0, n_ctx=1024, batch_width=2,
                        prompt_cache_mb=0)  # on the CPU, where the AMX kernels run
    engine = LlamaEngine(Path(model), "probe", "base", load, context=1024)
    result = engine.sample(SampleRequest(prompt=PROBE_PROMPT, n=2, max_tokens=4,
                                         temperature=0, ignore_eos=True))
    engine.close()
    print(f"{PROBE_OK}: {result.generated_tokens} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""``python -m hyperword.train``: one run of a plan (a built-in arm or a plan file); the same
command as ``hyperword train`` (:mod:`hyperword.cli.train` holds its flags, its parser and its run).

    python -m hyperword.train --plan mnemo-first --preset cpu --seed 0 --out runs/mf-0 \\
        --corpus mnemo=tok/mnemo --corpus natural=tok/natural --val natural=tok/natural-val

A checkpoint in ``--out`` is resumed; a finished run there is reported without training. Prints
the final validation losses (every adapter view) and where ``run.json`` is. ``--list`` prints the
arms and presets. Bad input is one line on stderr and exit status 1, before any training.

Many processes, one per GPU (or CPU processes on the gloo backend), through torchrun, which
starts this module::

    torchrun --nproc_per_node=4 -m hyperword.train --plan mnemo-first --preset gpu --out runs/mf-0 ...

Each rank trains on its own part of the data; the plan's token budget is global (see
:mod:`hyperword.train.distributed`); rank 0 writes and prints. A run is resumed with the same
number of processes.
"""

from __future__ import annotations

import sys

from hyperword.cli.train import main
from hyperword.cli.train import standalone_parser as build_parser

__all__ = ["build_parser", "main"]


if __name__ == "__main__":
    sys.exit(main())

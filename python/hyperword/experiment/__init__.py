"""hyperword.experiment: answer "mnemophrases first, or together, or not at all?" with one
command — the data made once, one tokenizer for all arms, every arm and seed trained with
:mod:`hyperword.train`, and ``results.json``, ``results.md`` and ``loss_curves.png`` written.

    >>> from hyperword.experiment import Experiment, run_experiment                # doctest: +SKIP
    >>> run_experiment(Experiment(("mnemo-first", "natural-only"), seeds=3, preset="cpu",
    ...                           out=Path("exp"), natural=("en.txt", "ru.txt")))  # doctest: +SKIP
"""

from hyperword.experiment.data import DataSpec, Prepared, prepare
from hyperword.experiment.results import RunRecord, summarize, to_markdown, tokens_to_reach
from hyperword.experiment.runner import DEFAULT_ARMS, Experiment, run_experiment

__all__ = [
    "DEFAULT_ARMS",
    "DataSpec",
    "Experiment",
    "Prepared",
    "RunRecord",
    "prepare",
    "run_experiment",
    "summarize",
    "to_markdown",
    "tokens_to_reach",
]

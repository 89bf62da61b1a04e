"""One encoding worker pool per process (issue 11, item 3): a script that imported a heavy module
(torch, when it is installed) and calls ``encode()`` several times starts its worker processes
once, and those workers never import the script's modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hyperword
from hyperword.encode import encode, workers
from hyperword.encode.input_corpus import open_source, shard_tasks
from hyperword.tokenizer import TrainOptions, train_tokenizer

spm = pytest.importorskip("sentencepiece")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A tokenizer and three small corpora (several shards each)."""
    base = tmp_path_factory.mktemp("pool")
    corpora = []
    for i in range(3):
        hyperword.generate(base / f"c{i}", 12_000, langs="en,ru", shard_words=4_000, seed=i)
        corpora.append(base / f"c{i}")
    train_tokenizer([str(corpora[0])], base / "tok", options=TrainOptions(vocab_size=500, max_sentences=2000, seed=5))
    return base / "tok", corpora


#: the caller: imports a "heavy" module (which records every process that imports it), then
#: encodes three corpora with two workers and reports how many pools it started and their pids
SCRIPT = """
import json, os, sys
import heavy  # noqa: F401  (the caller's own heavy import: torch and a marker)
from hyperword.encode import encode, workers

if __name__ == "__main__":
    tok, out = sys.argv[1], sys.argv[2]
    pids = []
    for i, corpus in enumerate(sys.argv[3:]):
        encode(tok, corpus, os.path.join(out, f"t{i}"), threads=2)
        pids.append(sorted(workers._SHARED.executor._processes) if workers._SHARED else [])
    print(json.dumps({"pools": workers.pools_started(), "pids": pids, "me": os.getpid()}))
"""

HEAVY = """
import os, sys
with open(os.environ["HEAVY_MARKER"], "a") as f:
    f.write(f"{os.getpid()}\\n")
try:
    import torch  # noqa: F401  (what made every spawned worker slow to start)
except ImportError:
    pass
"""


def test_a_caller_that_imported_a_heavy_module_starts_one_pool_whose_workers_do_not_import_it(
    inputs: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    tok, corpora = inputs
    (tmp_path / "heavy.py").write_text(HEAVY, encoding="utf-8")
    script = tmp_path / "caller.py"
    script.write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    marker = tmp_path / "imported-by.txt"
    env = {
        **os.environ,
        "HEAVY_MARKER": str(marker),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, str(script), str(tok), str(tmp_path / "out"), *map(str, corpora)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["pools"] == 1
    assert len(report["pids"]) == 3 and 1 <= len(report["pids"][0]) <= 2  # (workers start as tasks need them)
    assert report["pids"] == [report["pids"][0]] * 3  # the same workers for every call
    assert marker.read_text().split() == [str(report["me"])]  # the caller alone imported it
    for i, corpus in enumerate(corpora):  # and the output is what one thread writes
        one = encode(tok, corpus, tmp_path / f"one{i}", threads=1)
        two = tmp_path / "out" / f"t{i}"
        assert {p.name: p.read_bytes() for p in two.iterdir()} == {
            p.name: p.read_bytes() for p in (tmp_path / f"one{i}").iterdir()
        }
        assert one.tokens > 0


def test_the_pool_is_reused_across_calls_and_tokenizers_and_replaced_for_another_thread_count(
    inputs: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    tok, corpora = inputs
    train_tokenizer(
        [str(corpora[1])], tmp_path / "tok2", options=TrainOptions(vocab_size=400, max_sentences=2000, seed=6)
    )
    workers.shutdown()
    before = workers.pools_started()
    encode(tok, corpora[0], tmp_path / "a", threads=2)
    encode(tmp_path / "tok2", corpora[1], tmp_path / "b", threads=2)  # another tokenizer, the same workers
    assert workers.pools_started() == before + 1
    encode(tok, corpora[2], tmp_path / "c", threads=3)
    assert workers.pools_started() == before + 2
    for name, t, c in (("a", tok, corpora[0]), ("b", tmp_path / "tok2", corpora[1])):
        encode(t, c, tmp_path / f"{name}1", threads=1)
        assert {p.name: p.read_bytes() for p in (tmp_path / name).iterdir()} == {
            p.name: p.read_bytes() for p in (tmp_path / f"{name}1").iterdir()
        }
    workers.shutdown()


def test_an_encode_that_fails_shuts_the_pool_and_its_workers_down(
    inputs: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    tok, corpora = inputs
    model = (tok / "tokenizer.model").read_bytes()
    eos = spm.SentencePieceProcessor(model_proto=model).eos_id()
    source = open_source(corpora[0])
    encode(tok, corpora[1], tmp_path / "a", threads=2)
    shared = workers._SHARED
    assert shared is not None
    processes = list(shared.executor._processes.values())
    started = workers.pools_started()
    with pytest.raises(RuntimeError, match="the consumer failed"):
        with workers.WorkerPool(model, eos, "<u2", 2) as pool:
            results = pool.map(shard_tasks(source, source.shards[0], 500))
            next(results)
            raise RuntimeError("the consumer failed")  # as Ctrl-C in the middle of a shard
    assert workers._SHARED is None and all(not p.is_alive() for p in processes)
    encode(tok, corpora[2], tmp_path / "b", threads=2)
    assert workers.pools_started() == started + 1
    workers.shutdown()

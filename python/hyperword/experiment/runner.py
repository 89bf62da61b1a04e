"""``hyperword experiment``: every arm, pre-stage fraction and seed on the same data, one
tokenizer, one report.

1. Everything is checked first (arms, protocol, fractions, ladder, preset and its overrides,
   natural text, evaluation texts, languages), so a typo fails before any corpus is generated
   or any step is trained.
2. The data (:mod:`hyperword.experiment.data`) is made once under ``OUT/data`` and reused.
3. The runs (:meth:`Experiment.runs`), each trained into its own folder with
   :func:`hyperword.train.run_plan` — a finished run is kept, an interrupted one resumes from its
   checkpoint, so an interrupted sweep resumes run by run:

   - the ``natural-only`` ladder, ``runs/natural-only/ladder-L/seed-K``: ``L × N`` natural tokens,
     each with its own full schedule (``L = 1`` is the ``natural-only`` arm itself);
   - every other arm at every pre-stage fraction, ``runs/ARM/f-FRACTION/seed-K`` (``f-0`` for an
     arm without a pre-stage). ``ARM@F`` in the arm list runs an arm at fraction ``F`` only.

   Under the ``additive`` protocol (the default) the natural stage is the same ``N`` tokens in
   every arm and the pre-stage adds ``fraction × N``; under ``matched`` one total ``T`` (the
   preset's budget, or ``N``) is carved, the pre-stage taking ``fraction × T``
   (:mod:`hyperword.train.plans`).
4. Every finished run's final model is scored on every evaluation text in full
   (:mod:`hyperword.experiment.scoring`; cached as ``final_full.json`` in the run's folder).
5. ``OUT/results.json`` (settings, data, overlap, every run, the summary of
   :mod:`hyperword.experiment.results`, preparation and training seconds), ``OUT/results.md``
   and ``OUT/loss_curves.png``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperword._hyperword import __version__
from hyperword.errors import ConfigError
from hyperword.experiment.data import MNEMO_VALIDATION_WORDS, TOKENIZER_DATA, DataSpec, Prepared, prepare
from hyperword.experiment.plot import plot_curves
from hyperword.experiment.results import REFERENCE_ARM, CurvePoint, RunRecord, summarize, to_markdown
from hyperword.formats.atomic import write_atomic
from hyperword.formats.identity import fingerprint

__all__ = ["DEFAULT_ARMS", "DEFAULT_LADDER", "VOCAB_SIZES", "Experiment", "RunSpec", "run_experiment"]

DEFAULT_ARMS = ("mnemo-first", "joint", "natural-only", "unfused-first")
DEFAULT_LADDER = (0.5, 0.75, 1.0, 1.25, 1.5)
#: tokenizer vocabulary per preset (the tiny CPU model spends most parameters on embeddings)
VOCAB_SIZES = {"smoke": 1000, "cpu": 4000, "gpu": 32000}
#: words of the mnemophrase validation text per preset (default: DataSpec's)
MNEMO_VALIDATION = {"smoke": 2000}
#: preset fields the command line may override
OVERRIDES = ("size", "seq_len", "batch_size", "lr", "eval_every", "schedule", "warmup")
FULL_FILE = "final_full.json"


@dataclass(frozen=True)
class RunSpec:
    """One run of the experiment: its arm (or plan file), fraction, ladder multiple, seed and plan."""

    arm: str
    fraction: float
    ladder: float | None
    seed: int
    plan: Any
    out: Path


@dataclass(frozen=True)
class Experiment:
    """What to run (see the module documentation). ``arms`` are built-in arms, ``ARM@F``, or
    plan files; ``fractions`` are the pre-stage fractions (``additive``: of ``N``, in (0, 4];
    ``matched``: of the total, in (0, 1)); ``natural_budget`` is ``N`` (default: half the
    preset's budget, rounded to whole steps, under ``additive``; the preset's budget under
    ``matched``); ``ladder`` the ``natural-only`` budgets as multiples of ``N`` (1 among them);
    ``eval_texts`` (name, file) pairs never trained on; ``overrides`` preset fields."""

    arms: tuple[str, ...]
    seeds: int
    preset: str
    out: Path
    natural: tuple[str, ...]
    langs: tuple[str, ...] = ("en", "ru")
    mnemo_fraction: float = 0.5
    bridge: float = 0.0
    vocab_size: int | None = None
    device: str | None = None
    protocol: str = "additive"
    fractions: tuple[float, ...] | None = None
    natural_budget: int | None = None
    ladder: tuple[float, ...] = DEFAULT_LADDER
    eval_texts: tuple[tuple[str, str], ...] = ()
    tokenizer_data: str = "mixed"
    overrides: dict[str, Any] = field(default_factory=dict)
    dyck_k: int = 64
    ngram_n: int = 3
    optimizer_state: str = "reset"

    # --- checking ------------------------------------------------------------------------
    def check(self) -> None:
        """Every input that can be wrong, before anything is made."""
        from hyperword.train import ARMS
        from hyperword.train.plans import PROTOCOLS

        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"unknown protocol {self.protocol!r}: expected one of {', '.join(PROTOCOLS)}")
        names = [a.split("@")[0] for a in self.arms]
        unknown = [a for a in names if a not in ARMS and not _is_plan_file(a)]
        if unknown:
            raise ConfigError(
                f"unknown arm(s) {', '.join(map(repr, unknown))}: expected some of {', '.join(ARMS)}, or .json/.yaml plan files"
            )
        if not self.arms or len(set(self.arms)) != len(self.arms):
            raise ConfigError(f"arms must be a non-empty list without repeats, got {list(self.arms)}")
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or self.seeds < 1:
            raise ConfigError(f"seeds must be a positive integer, got {self.seeds!r}")
        if not 0 <= self.bridge < 1:
            raise ConfigError(f"the bridge weight must be in [0, 1), got {self.bridge}")
        for f in [*self.pre_fractions, *(_at(a) for a in self.arms if "@" in a)]:
            lo_open, hi = (0.0, 4.0) if self.protocol == "additive" else (0.0, 1.0)
            if not (lo_open < f <= hi) or (self.protocol == "matched" and f == 1.0):
                bounds = "(0, 4]" if self.protocol == "additive" else "(0, 1)"
                raise ConfigError(f"pre-stage fraction {f:g} is outside {bounds} (protocol {self.protocol})")
        if not self.ladder or 1.0 not in self.ladder:
            raise ConfigError(
                f"the ladder must include the natural budget itself (1), got {', '.join(f'{x:g}' for x in self.ladder) or 'nothing'}"
            )
        if any(not 0 < x <= 16 for x in self.ladder) or len(set(self.ladder)) != len(self.ladder):
            raise ConfigError(
                f"ladder multiples must be distinct numbers in (0, 16], got {', '.join(f'{x:g}' for x in self.ladder)}"
            )
        if self.tokenizer_data not in TOKENIZER_DATA:
            raise ConfigError(f"tokenizer data must be one of {', '.join(TOKENIZER_DATA)}, got {self.tokenizer_data!r}")
        if isinstance(self.dyck_k, bool) or not isinstance(self.dyck_k, int) or self.dyck_k < 1:
            raise ConfigError(f"--dyck-k must be a positive integer, got {self.dyck_k!r}")
        if self.ngram_n not in (1, 2, 3):
            raise ConfigError(f"--ngram-n must be 1, 2 or 3, got {self.ngram_n!r}")
        unknown_overrides = sorted(set(self.overrides) - set(OVERRIDES))
        if unknown_overrides:
            raise ConfigError(
                f"unknown preset override(s) {unknown_overrides}: expected some of {', '.join(OVERRIDES)}"
            )
        for path in self.natural:
            if not Path(path).exists():
                raise ConfigError(f"{path}: no such file (natural text)")
        self._check_eval_texts()
        self.runs()  # every plan built, so bad budgets fail here

    def _check_eval_texts(self) -> None:
        """Names unique and new; a text named for a language the tokenizer never sees is refused."""
        import hyperword

        names = [n for n, _ in self.eval_texts]
        reserved = {"natural", "mnemo"}
        bad = [n for n in names if not n or n in reserved or not n.replace("-", "").replace("_", "").isalnum()]
        if bad or len(set(names)) != len(names):
            raise ConfigError(f"evaluation text names must be distinct words other than natural and mnemo, got {names}")
        seen = set(DataSpec(self.natural, self.langs, 1, 1000).part_names())
        if self.tokenizer_data == "mixed":
            seen |= set(self.langs)
        lexicon_langs = set(hyperword.Lexicon.default().langs)
        for name, path in self.eval_texts:
            if not Path(path).is_file():
                raise ConfigError(f"{path}: no such file (evaluation text {name!r})")
            lang = name if name in lexicon_langs else Path(path).name.split(".")[0]
            if lang in lexicon_langs and lang not in seen:
                raise ConfigError(
                    f"evaluation text {name!r} is {lang} text, a language the tokenizer never sees (it learns from "
                    f"{', '.join(sorted(seen))}); add {lang} to --langs so mnemophrases bring its words"
                )

    # --- the runs ------------------------------------------------------------------------
    @property
    def pre_fractions(self) -> tuple[float, ...]:
        return (
            self.fractions
            if self.fractions is not None
            else (self.mnemo_fraction,)
            if self.protocol == "matched"
            else (0.125,)
        )

    def effective_preset(self) -> Any:
        """The preset with the command line's overrides (checked again)."""
        from hyperword.train import get_preset

        p = get_preset(self.preset)
        changes = dict(self.overrides)
        try:
            return p.replace(**changes) if changes else p
        except (TypeError, ValueError) as e:
            raise ConfigError(f"preset {p.name!r} with {changes}: {e}") from None

    def budget(self) -> int:
        """``N``: the natural budget (additive) or the total (matched), whole optimizer steps."""
        p = self.effective_preset()
        step = p.step_tokens
        n = (
            self.natural_budget
            if self.natural_budget is not None
            else (p.tokens // 2 if self.protocol == "additive" else p.tokens)
        )
        if isinstance(n, bool) or not isinstance(n, int) or n < step or n % step:
            raise ConfigError(
                f"the natural budget {n!r} is not a positive multiple of the {step} tokens of an optimizer step"
            )
        return n

    def runs(self) -> list[RunSpec]:
        """Every run, in the order they train: per seed, the ladder, then each arm and fraction."""
        from hyperword.train.plans import ARMS, build_additive, build_arm, load_plan, pre_role, with_bridge

        p = self.effective_preset()
        step, n = p.step_tokens, self.budget()
        root = self.out / "runs"
        out: list[RunSpec] = []
        for seed in range(self.seeds):
            for multiple in sorted(self.ladder):
                tokens = round(multiple * n / step) * step
                if tokens < step:
                    raise ConfigError(f"ladder multiple {multiple:g} of {n:,} tokens is less than one optimizer step")
                if self.protocol == "additive":
                    plan = build_additive(
                        REFERENCE_ARM,
                        natural_tokens=tokens,
                        fraction=1.0,
                        step_tokens=step,
                        bridge=self.bridge,
                        optimizer_state=self.optimizer_state,
                    )
                else:
                    plan = build_arm(REFERENCE_ARM, total_tokens=tokens, step_tokens=step, bridge=self.bridge)
                out.append(
                    RunSpec(
                        REFERENCE_ARM,
                        0.0,
                        multiple,
                        seed,
                        plan,
                        root / REFERENCE_ARM / f"ladder-{multiple:g}" / f"seed-{seed}",
                    )
                )
            for entry in self.arms:
                arm = entry.split("@")[0]
                if arm == REFERENCE_ARM:
                    continue
                if _is_plan_file(arm):
                    plan = load_plan(arm, total_tokens=n, step_tokens=step)
                    plan = with_bridge(plan, self.bridge) if self.bridge else plan
                    out.append(RunSpec(plan.name, 0.0, None, seed, plan, root / plan.name / f"seed-{seed}"))
                    continue
                fractions = (
                    (_at(entry),) if "@" in entry else self.pre_fractions if pre_role(arm) is not None else (0.0,)
                )
                for f in fractions:
                    if arm not in ARMS:
                        raise ConfigError(f"unknown arm {arm!r}")
                    if self.protocol == "additive":
                        plan = build_additive(
                            arm,
                            natural_tokens=n,
                            fraction=f or 1.0,
                            step_tokens=step,
                            bridge=self.bridge,
                            optimizer_state=self.optimizer_state,
                        )
                    else:
                        plan = build_arm(
                            arm,
                            total_tokens=n,
                            step_tokens=step,
                            mnemo_fraction=f or 0.5,
                            bridge=self.bridge,
                            optimizer_state=self.optimizer_state,
                        )
                    out.append(RunSpec(arm, f, None, seed, plan, root / arm / f"f-{f:g}" / f"seed-{seed}"))
        return out

    def data_spec(self) -> DataSpec:
        vocab = self.vocab_size or VOCAB_SIZES.get(self.preset, 8000)
        # At least one token per word, so this many words cover any pre-stage without repeats.
        runs = self.runs()
        pre = max([sum(s.tokens for s in r.plan.stages if "natural" not in s.mixture) for r in runs] + [1000])
        roles = {role for r in runs for role in r.plan.roles}
        extra = tuple(k for k in ("dyck", "ngram") if k in roles)
        return DataSpec(
            self.natural,
            self.langs,
            mnemo_tokens=pre,
            vocab_size=vocab,
            bridge=self.bridge > 0,
            tokenizer_data=self.tokenizer_data,
            eval_texts=self.eval_texts,
            mnemo_validation_words=MNEMO_VALIDATION.get(self.preset, MNEMO_VALIDATION_WORDS),
            extra_kinds=extra,
            dyck_k=self.dyck_k,
            ngram_n=self.ngram_n,
        )

    def settings(self) -> dict[str, Any]:
        """The effective settings, as results.json records them."""
        return {
            "arms": list(self.arms),
            "seeds": self.seeds,
            "preset": self.preset,
            "preset_effective": self.effective_preset().to_dict(),
            "overrides": dict(self.overrides),
            "protocol": self.protocol,
            "pre_fractions": list(self.pre_fractions),
            "natural_budget": self.budget(),
            "ladder": list(self.ladder),
            "natural": list(self.natural),
            "langs": list(self.langs),
            "eval_texts": {name: path for name, path in self.eval_texts},
            "tokenizer_data": self.tokenizer_data,
            "mnemo_fraction": self.mnemo_fraction,
            "bridge": self.bridge,
            "vocab_size": self.data_spec().vocab_size,
            "optimizer_state": self.optimizer_state,
            "dyck_k": self.dyck_k,
            "ngram_n": self.ngram_n,
        }


def _is_plan_file(arm: str) -> bool:
    return Path(arm).suffix.lower() in (".json", ".yaml", ".yml")


def _at(entry: str) -> float:
    try:
        return float(entry.split("@", 1)[1])
    except ValueError:
        raise ConfigError(f"arm {entry!r}: the fraction after @ is not a number") from None


# --- running -----------------------------------------------------------------------------
def record(spec: RunSpec, result: Any, data: Prepared, full: dict[str, Any], full_off: dict[str, Any]) -> RunRecord:
    """A trainer ``RunResult`` as the experiment's per-run record. ``final`` holds the periodic
    final losses in the arm's final view (``natural_adapter_off`` etc. with the adapter off);
    the curve ends with the final evaluation."""
    final = dict(result.final_eval)
    base = result.views.get("base")
    if result.final_view not in (None, "base") and base:
        final.update({f"{k}_adapter_off": v for k, v in base.items()})
    curve = [CurvePoint(p.tokens, p.train_loss, dict(p.eval)) for p in result.curve]
    if curve and curve[-1].tokens != result.tokens and result.final_eval:
        curve.append(CurvePoint(result.tokens, None, dict(result.final_eval)))
    hashes = {
        **data.hashes,
        "run_fingerprint": result.fingerprint,
        "tokenizer_sha256": result.tokenizer_sha256,
        "hyperword": __version__,
    }
    return RunRecord(
        spec.arm,
        spec.seed,
        curve,
        final,
        dict(result.served_tokens),
        hashes,
        float(result.train_seconds),
        spec.fraction,
        spec.ladder,
        full,
        full_off,
    )


def score_run(
    spec: RunSpec, result: Any, data: Prepared, preset: Any, device: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's final model scored on every evaluation text in full, in its final view and
    (when that is an adapter) with the adapter off; cached in the run's folder."""
    import torch

    from hyperword.experiment.scoring import score_texts
    from hyperword.train import adapter_view, load_model

    identity = fingerprint(
        {"run": result.fingerprint, "texts": data.to_dict()["texts"], "seq_len": preset.seq_len, "version": 1}
    )
    cache = spec.out / FULL_FILE
    if cache.is_file():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved.get("fingerprint") == identity:
            return saved["final_full"], saved["final_full_adapter_off"]
    dev = torch.device(device) if device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = load_model(spec.out / "final", trainable=False).to(dev)
    views = [result.final_view] + (["base"] if result.final_view not in (None, "base") else [])
    scores = []
    for view in views:
        with adapter_view(model, None if view in (None, "base") else view):
            scores.append(
                score_texts(model, data.texts, seq_len=preset.seq_len, batch_size=preset.eval_batch_size, device=dev)
            )
    full, off = scores[0], scores[1] if len(scores) > 1 else {}
    write_atomic(
        cache,
        (
            json.dumps({"fingerprint": identity, "final_full": full, "final_full_adapter_off": off}, indent=1) + "\n"
        ).encode(),
    )
    return full, off


def run_experiment(exp: Experiment, *, progress: bool = True, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run it all (see the module documentation); returns the summary."""
    from hyperword.train import run_plan

    exp.check()
    preset = exp.effective_preset()
    specs = exp.runs()
    start = time.perf_counter()
    exp.out.mkdir(parents=True, exist_ok=True)
    data = prepare(exp.out, exp.data_spec())
    prepare_seconds = time.perf_counter() - start
    log(f"data ready in {prepare_seconds:.1f} s: {', '.join(f'{k} {v}' for k, v in data.corpora.items())}")
    records: list[RunRecord] = []
    train_seconds = score_seconds = 0.0
    for i, spec in enumerate(specs):
        t0 = time.perf_counter()
        result = run_plan(
            spec.plan,
            data.corpora,
            data.validation,
            preset,
            spec.seed,
            spec.out,
            tokenizer=data.tokenizer,
            device=exp.device,
            progress=progress,
        )
        t1 = time.perf_counter()
        full, off = score_run(spec, result, data, preset, exp.device)
        train_seconds, score_seconds = train_seconds + t1 - t0, score_seconds + time.perf_counter() - t1
        records.append(record(spec, result, data, full, off))
        what = f"ladder {spec.ladder:g}" if spec.ladder is not None else f"fraction {spec.fraction:g}"
        log(
            f"[{i + 1}/{len(specs)}] {spec.arm} {what} seed {spec.seed}: natural {full['natural']['loss']:.4f} (full), "
            f"{', '.join(f'{k} {v:.4f}' for k, v in sorted(records[-1].final.items()))} (periodic) ({time.perf_counter() - t0:.0f} s)"
        )
    timing = {"prepare_seconds": prepare_seconds, "train_seconds": train_seconds, "score_seconds": score_seconds}
    return write_results(exp, records, data, seconds=time.perf_counter() - start, timing=timing)


def write_results(
    exp: Experiment,
    records: Sequence[RunRecord],
    data: Prepared,
    *,
    seconds: float,
    timing: dict[str, float] | None = None,
) -> dict[str, Any]:
    summary = summarize(records, protocol=exp.protocol, natural_budget=exp.budget())
    epochs = {
        f"{r.arm}/f-{r.fraction:g}/seed-{r.seed}"
        + (f"/ladder-{r.ladder:g}" if r.ladder is not None else ""): r.natural_tokens
        / max(1, data.natural_train_tokens)
        for r in records
    }
    if epochs and max(epochs.values()) > 1:
        worst = max(epochs, key=epochs.__getitem__)
        print(
            f"warning: run {worst} trained {epochs[worst]:.2f} epochs of the natural text (repeats): give more natural text or a smaller budget"
        )
    payload = {
        "format": "hyperword-experiment",
        "format_version": 2,
        "experiment": exp.settings(),
        "data": data.to_dict(),
        "summary": summary,
        "natural_epochs": {"max": max(epochs.values(), default=0.0), "per_run": epochs},
        "runs": [r.to_dict() for r in records],
        "wall_seconds": seconds,
        **(timing or {}),
    }
    write_atomic(exp.out / "results.json", (json.dumps(payload, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    title = f"Experiment: preset {exp.preset}, {exp.seeds} seed(s), protocol {exp.protocol}"
    write_atomic(exp.out / "results.md", to_markdown(summary, title).encode("utf-8"))
    plot_curves(records, exp.out / "loss_curves.png", summary=summary)
    return summary


def default_natural() -> tuple[str, ...]:
    """``../shared/data/natural/{en,ru}.txt`` beside the working directory or the repository, if present."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        d = root.parent / "shared" / "data" / "natural"
        if (d / "en.txt").is_file() and (d / "ru.txt").is_file():
            return (str(d / "en.txt"), str(d / "ru.txt"))
    return ()

"""hyperword.train without training: model sizes, the loss, the learning-rate schedule, plans,
arms, presets, and bad input refused before any training starts."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

pytest.importorskip("peft")

from test_train_data import Data, data  # noqa: E402,F401  (the session's token directories)

from hyperword import ConfigError  # noqa: E402
from hyperword.train import (  # noqa: E402
    ARMS,
    PRESETS,
    build_arm,
    get_preset,
    load_plan,
    parameter_count,
    plan_from_dict,
    prepare_run,
    resolve_plan,
    with_bridge,
)
from hyperword.train.__main__ import main as cli_main  # noqa: E402
from hyperword.train.model import (  # noqa: E402
    DOCUMENTED_VOCAB,
    SIZES,
    build_model,
    get_size,
    lm_loss,
    reinit_embedding_rows,
    size_of,
)
from hyperword.train.plans import MixtureSchedule  # noqa: E402
from hyperword.train.presets import LRSchedule, make_scheduler  # noqa: E402

torch.set_num_threads(1)


# --- model -----------------------------------------------------------------------------------
def test_parameter_counts_match_the_built_models_and_the_documented_ranges() -> None:
    tiny = build_model("tiny", DOCUMENTED_VOCAB, seed=0)
    assert sum(p.numel() for p in tiny.parameters()) == parameter_count("tiny", DOCUMENTED_VOCAB)
    assert 1_000_000 <= parameter_count("tiny", DOCUMENTED_VOCAB) <= 3_000_000
    for name, low, high in (("small", 20e6, 30e6), ("base", 110e6, 135e6)):
        with torch.device("meta"):  # shapes only, no memory
            model = build_model(name, DOCUMENTED_VOCAB, seed=0)
        assert sum(p.numel() for p in model.parameters()) == parameter_count(name, DOCUMENTED_VOCAB)
        assert low <= parameter_count(name, DOCUMENTED_VOCAB) <= high
    assert tiny.lm_head.weight is tiny.model.embed_tokens.weight  # tied
    assert {size_of(SIZES[n].config(500)) for n in SIZES} == set(SIZES) and size_of(tiny.config) == "tiny"
    with pytest.raises(ConfigError, match="unknown model size 'huge'"):
        get_size("huge")


def test_models_are_seeded_and_do_not_disturb_the_global_rng() -> None:
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a, b, c = (build_model("tiny", 300, seed=s) for s in (1, 1, 2))
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.model.embed_tokens.weight, c.model.embed_tokens.weight)


def test_the_loss_uses_the_already_shifted_targets() -> None:
    model = build_model("tiny", 300, seed=0).eval()
    x = torch.randint(0, 300, (2, 17), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ours = lm_loss(model, x)
        manual = torch.nn.functional.cross_entropy(
            model(input_ids=x[:, :-1]).logits.reshape(-1, 300), x[:, 1:].reshape(-1)
        )
        hf = model(input_ids=x, labels=x).loss  # transformers shifts labels itself: same positions
        summed = lm_loss(model, x, reduction="sum")
    assert torch.allclose(ours, manual) and torch.allclose(ours, hf, atol=1e-5)
    assert torch.allclose(summed / (2 * 16), ours)


def test_reinitialising_embedding_rows_touches_exactly_the_masked_rows() -> None:
    model = build_model("tiny", 50, seed=0)
    before = model.model.embed_tokens.weight.detach().clone()
    mask = torch.zeros(50, dtype=torch.bool)
    mask[[3, 7, 49]] = True
    assert reinit_embedding_rows(model, mask, seed=[1, 2]) == 3
    after = model.model.embed_tokens.weight.detach()
    assert torch.equal(after[~mask], before[~mask]) and not torch.equal(after[mask], before[mask])
    assert torch.equal(model.lm_head.weight, after)  # tied: the output projection follows
    again = build_model("tiny", 50, seed=0)
    reinit_embedding_rows(again, mask, seed=[1, 2])
    assert torch.equal(again.model.embed_tokens.weight, after)  # seeded
    assert (
        reinit_embedding_rows(again, None, seed=5) == 50
        and not (again.model.embed_tokens.weight == after).any(dim=1).all()
    )


# --- schedule --------------------------------------------------------------------------------
def test_warm_up_then_cosine_to_the_minimum_at_the_last_step() -> None:
    s = LRSchedule(peak=1e-3, warmup=0.1, min_ratio=0.1)
    lrs = [s.lr(i, 50) for i in range(50)]
    assert s.warmup_steps(50) == 5
    assert lrs[:5] == pytest.approx([2e-4, 4e-4, 6e-4, 8e-4, 1e-3])
    assert lrs[5] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(1e-4)
    assert all(a >= b for a, b in zip(lrs[5:], lrs[6:]))
    assert lrs[5 + 22] == pytest.approx(1e-4 + 0.9e-3 * 0.5 * (1 + math.cos(math.pi * 22 / 44)))
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1e-3)
    sched = make_scheduler(opt, s, 50)
    seen = []
    for _ in range(50):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == pytest.approx(lrs)
    for bad in ({"peak": 0}, {"peak": 1e-3, "warmup": 1.0}, {"peak": 1e-3, "min_ratio": 2}):
        with pytest.raises(ConfigError):
            LRSchedule(**bad)  # type: ignore[arg-type]


# --- plans -----------------------------------------------------------------------------------
PLAN_YAML = """
name: scheduled
stages:
  - name: warm
    mixture: {mnemo: 3, unfused: 1}
    fraction: 0.25
  - name: lang
    mixture: {natural: 1.0}
    mixture_end: {natural: 0.5, mnemo: 0.5}
    fraction: 0.75
    train: {lora: lang, r: 4, alpha: 8}
    train_tokens: new
    lr: 2e-3
    warmup: 0.05
"""


def test_plans_load_from_yaml_and_json_with_fractions_rounded_to_steps(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PLAN_YAML, encoding="utf-8")
    plan = load_plan(tmp_path / "p.yaml", total_tokens=10 * 512, step_tokens=512)
    assert [s.tokens for s in plan.stages] == [512 * 2, 512 * 8]  # round(2.5) = 2, the rest to the last
    assert plan.total_tokens == 5120 and plan.roles == ["mnemo", "natural", "unfused"] and plan.adapters == ["lang"]
    lang = plan.stages[1]
    assert (
        lang.trains == "lora:lang"
        and lang.view == "lang"
        and lang.owner == "lang"
        and lang.lora is not None
        and lang.lora.r == 4
    )
    assert lang.lr == 2e-3 and lang.warmup == 0.05  # YAML 1.1 reads 2e-3 as text; it counts as a number
    assert lang.train_tokens == "new" and plan.stages[0].train_tokens == "none"
    (tmp_path / "p.json").write_text(json.dumps(plan.to_dict()), encoding="utf-8")
    assert load_plan(tmp_path / "p.json") == plan  # the dictionary form round-trips
    schedule = MixtureSchedule(lang.mixture, lang.mixture_end or {}, 11)
    assert schedule(0) == {"mnemo": 0.0, "natural": 1.0} and schedule(10) == {"mnemo": 0.5, "natural": 0.5}
    assert schedule(5) == pytest.approx({"mnemo": 0.25, "natural": 0.75})


@pytest.mark.parametrize(
    "stages, total, message",
    [
        (
            [{"mixture": {"a": 1}, "tokens": 100}, {"mixture": {"b": 1}, "tokens": 100}],
            300,
            "do not add up: 100 \\+ 100 = 200",
        ),
        (
            [{"mixture": {"a": 1}, "fraction": 0.5}, {"mixture": {"b": 1}, "fraction": 0.4}],
            300,
            "fractions .* sum to 0.9",
        ),
        (
            [{"mixture": {"a": 1}, "fraction": 0.5}, {"mixture": {"b": 1}, "tokens": 100}],
            300,
            "'tokens' or every stage as 'fraction'",
        ),
        ([{"mixture": {"a": 1}, "fraction": 1.0}], None, "need total_tokens"),
        ([{"mixture": {}, "tokens": 10}], None, "non-empty mapping"),
        ([{"mixture": {"a": -1}, "tokens": 10}], None, "finite number >= 0"),
        ([{"mixture": {"a": 1}, "tokens": 10, "epochs": 2}], None, "unknown keys \\['epochs'\\]"),
        (
            [{"mixture": {"a": 1}, "tokens": 10, "train": "lora:x", "embeddings": "reset"}],
            None,
            "embeddings must be 'keep'",
        ),
        ([{"mixture": {"a": 1}, "tokens": 10, "embeddings": "shuffle"}], None, "keep, reset, reinit-new"),
        ([{"mixture": {"a": 1}, "tokens": 10, "adapter": "mnemo"}], None, "not trained by an earlier stage"),
        (
            [{"name": "s", "mixture": {"a": 1}, "tokens": 5}, {"name": "s", "mixture": {"a": 1}, "tokens": 5}],
            None,
            "names repeat",
        ),
        ([{"mixture": {"a": 1}, "tokens": 10, "train": "partial"}], None, "train must be"),
        (
            [{"mixture": {"a": 1}, "tokens": 10, "train_tokens": "new"}],
            None,
            "is for a stage that trains a LoRA adapter",
        ),
        ([{"mixture": {"a": 1}, "tokens": 10, "train": "lora:x", "train_tokens": "some"}], None, "none, new, all"),
    ],
)
def test_bad_plans_are_refused_with_the_reason(
    stages: list[dict[str, object]], total: int | None, message: str
) -> None:
    data = {"name": "bad", "stages": stages, **({"total_tokens": total} if total is not None else {})}
    with pytest.raises(ConfigError, match=message):
        plan_from_dict(data)


def test_plan_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_plan(tmp_path / "none.yaml")
    (tmp_path / "p.toml").write_text("x = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\.json, \.yaml or \.yml"):
        load_plan(tmp_path / "p.toml")
    (tmp_path / "p.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_plan(tmp_path / "p.json")
    (tmp_path / "q.json").write_text(json.dumps({"stages": [{"mixture": {"a": 1}, "tokens": 1000}]}), encoding="utf-8")
    with pytest.raises(
        ConfigError, match="1000 = 1000, but the plan's total is 16384"
    ):  # the preset's budget, unless the file names one
        resolve_plan(tmp_path / "q.json", PRESETS["smoke"])
    (tmp_path / "q.json").write_text(
        json.dumps({"total_tokens": 1000, "stages": [{"mixture": {"a": 1}, "tokens": 1000}]}), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="budget 1000 is not a multiple of the 512 tokens"):
        resolve_plan(tmp_path / "q.json", PRESETS["smoke"])


# --- arms ------------------------------------------------------------------------------------
def test_every_arm_has_the_same_total_and_natural_text_the_same_budget() -> None:
    step, steps = 512, 33  # an odd number of steps: the split must still agree across arms
    plans = {a: build_arm(a, total_tokens=step * steps, step_tokens=step) for a in ARMS}
    assert set(ARMS) == {
        "mnemo-first",
        "joint",
        "natural-only",
        "natural-first",
        "mnemo-first-lora",
        "mnemo-adapter",
        "unfused-first",
        "random-first",
        "shuffled-first",
        "unigram-first",
        "dyck-first",
        "ngram-first",
        "unfused-first-lora",
        "random-lora",
    }
    assert {p.total_tokens for p in plans.values()} == {step * steps}
    natural = {
        a: sum(s.tokens for s in p.stages if "natural" in s.mixture and len(s.mixture) == 1)
        for a, p in plans.items()
        if len(p.stages) == 2
    }
    assert set(natural.values()) == {17 * step}  # round(0.5 * 33) = 16 mnemo-side steps, 17 natural everywhere
    assert [s.roles for s in plans["mnemo-first"].stages] == [["mnemo"], ["natural"]]
    assert [s.roles for s in plans["natural-first"].stages] == [["natural"], ["mnemo"]]
    assert [s.roles for s in plans["unfused-first"].stages] == [["unfused"], ["natural"]]
    assert [s.roles for s in plans["random-first"].stages] == [["random"], ["natural"]]
    assert plans["joint"].stages[0].mixture == {"mnemo": 0.5, "natural": 0.5} and len(plans["natural-only"].stages) == 1
    assert [s.trains for s in plans["mnemo-first-lora"].stages] == ["full", "lora:lang"]
    assert [s.train_tokens for s in plans["mnemo-first-lora"].stages] == ["none", "new"]
    assert build_arm("mnemo-first-lora", total_tokens=100, lora_tokens="none").stages[1].train_tokens == "none"
    assert all(s.train_tokens == "none" for a in ARMS if not a.endswith("lora") for s in plans[a].stages)
    assert [(s.roles, s.trains, s.train_tokens) for s in plans["unfused-first-lora"].stages] == [
        (["unfused"], "full", "none"),
        (["natural"], "lora:lang", "new"),
    ]
    assert [(s.roles, s.trains, s.train_tokens, s.tokens) for s in plans["random-lora"].stages] == [
        (["natural"], "lora:lang", "new", step * steps)
    ]
    assert [s.roles for s in plans["shuffled-first"].stages] == [["shuffled"], ["natural"]]
    assert [s.roles for s in plans["dyck-first"].stages] == [["dyck"], ["natural"]] and [
        s.roles for s in plans["ngram-first"].stages
    ] == [["ngram"], ["natural"]]
    assert all(s.stream is None for p in plans.values() for s in p.stages)  # matched plans train as they always did
    assert [(s.trains, s.view) for s in plans["mnemo-adapter"].stages] == [("lora:mnemo", "mnemo"), ("full", "mnemo")]
    assert all(s.trains == "full" for a in ("mnemo-first", "joint", "natural-first") for s in plans[a].stages)
    f = build_arm("mnemo-first", total_tokens=100 * step, step_tokens=step, mnemo_fraction=0.3)
    assert [s.tokens for s in f.stages] == [30 * step, 70 * step]
    assert build_arm("joint", total_tokens=100, mnemo_fraction=0.3).stages[0].mixture == pytest.approx(
        {"mnemo": 0.3, "natural": 0.7}
    )
    assert build_arm("mnemo-first", total_tokens=100, embeddings="reinit-new").stages[1].embeddings == "reinit-new"


def test_additive_arms_share_the_natural_stage_and_add_the_pre_stage() -> None:
    from hyperword.train.plans import build_additive

    step, n = 512, 512 * 32
    plans = {a: build_additive(a, natural_tokens=n, fraction=0.125, step_tokens=step) for a in ARMS}
    for arm, plan in plans.items():
        natural = [s for s in plan.stages if s.mixture == {"natural": 1.0}]
        if arm == "joint":
            assert [s.tokens for s in plan.stages] == [n + 4 * step]
            assert plan.stages[0].mixture == pytest.approx({"mnemo": 4 / 36, "natural": 32 / 36})
            continue
        assert [(s.tokens, s.stream) for s in natural] == [(n, "natural")], arm
        pre = plan.total_tokens - n
        assert pre == (0 if arm in ("natural-only", "random-lora") else 4 * step), arm
    assert [s.name for s in plans["natural-first"].stages] == ["natural", "mnemo"]
    assert (
        build_additive("mnemo-first", natural_tokens=n, fraction=0.001, step_tokens=step).stages[0].tokens == step
    )  # at least a step
    assert build_additive("mnemo-first", natural_tokens=n, fraction=4, step_tokens=step).stages[0].tokens == 4 * n
    for bad in (0, -1, 4.5, True):
        with pytest.raises(ConfigError, match=r"fraction must be in \(0, 4\]"):
            build_additive("mnemo-first", natural_tokens=n, fraction=bad, step_tokens=step)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not a positive multiple"):
        build_additive("mnemo-first", natural_tokens=n + 1, fraction=0.5, step_tokens=step)


def test_stages_sharing_a_stream_read_the_same_batches_wherever_they_stand(data: Data) -> None:
    from hyperword.train.data import stage_loader
    from hyperword.train.plans import build_additive

    only = build_additive("natural-only", natural_tokens=4096, fraction=1.0, step_tokens=512)
    after = build_additive("mnemo-first", natural_tokens=4096, fraction=0.5, step_tokens=512)

    def first(plan: object, index: int, seed: int = 0) -> list[torch.Tensor]:
        loader = stage_loader(plan.stages[index], index, data.corpora, seq_len=32, batch_size=4, seed=seed, batches=3)  # type: ignore[attr-defined]
        return [b["tokens"] for b in loader]

    a, b = first(only, 0), first(after, 1)
    assert all(torch.equal(x, y) for x, y in zip(a, b)) and len(a) == 3
    matched = build_arm(
        "mnemo-first", total_tokens=8192, step_tokens=512
    )  # no stream: seeded by the stage index, as before
    assert not all(torch.equal(x, y) for x, y in zip(a, first(matched, 1)))
    assert not all(torch.equal(x, y) for x, y in zip(a, first(only, 0, seed=1)))


def test_twin_controls_keep_the_documents_and_the_unigram_counts(data: Data, tmp_path: Path) -> None:
    import numpy as np

    from hyperword.encode import read_token_manifest
    from hyperword.train.data import describe, twin

    like = describe("mnemo", data.corpora["mnemo"])

    def arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
        m = read_token_manifest(path)
        toks = np.concatenate([np.load(path / s.tokens_path) for s in m.shards]).astype(np.int64)
        ends = np.concatenate(
            [np.load(path / s.docs_path) + sum(x.tokens for x in m.shards[: s.index]) for s in m.shards]
        )
        return toks, ends

    src, src_ends = arrays(like.path)
    for role in ("shuffled", "unigram", "random"):
        out = twin(role, like, tmp_path / role, seed=3, tokenizer=data.tokenizer)
        toks, ends = arrays(out.path)
        assert len(toks) == len(src) and np.array_equal(ends, src_ends), role
        assert np.all(toks[ends - 1] == like.eos_id)
        body = np.delete(toks, ends - 1)
        assert not np.any(body == like.eos_id), role
        if role == "shuffled":  # the same tokens, exactly, in another order
            src_body = np.delete(src, src_ends - 1)
            assert np.array_equal(np.sort(body), np.sort(src_body)) and not np.array_equal(body, src_body)
        if role == "unigram":  # drawn from the same distribution: close counts, never an id mnemo lacks
            assert set(np.unique(body)) <= set(np.unique(np.delete(src, src_ends - 1)))
        again = twin(role, like, tmp_path / f"{role}-again", seed=3, tokenizer=data.tokenizer)
        assert np.array_equal(arrays(again.path)[0], toks)  # a pure function of (corpus, seed)
        assert not np.array_equal(
            arrays(twin(role, like, tmp_path / f"{role}-1", seed=4, tokenizer=data.tokenizer).path)[0], toks
        )
    with pytest.raises(ConfigError, match="no twin corpus"):
        twin("mirror", like, tmp_path / "m", seed=0)


def test_warm_up_stable_decay_and_constant_schedules() -> None:
    wsd = LRSchedule(peak=1.0, warmup=0.1, min_ratio=0.1, shape="wsd", decay=0.2)
    lrs = [wsd.lr(i, 50) for i in range(50)]
    assert lrs[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert lrs[5:40] == pytest.approx([1.0] * 35)  # stable until the last 10 steps
    assert lrs[40:] == pytest.approx(
        [1.0 - 0.9 * k / 10 for k in range(1, 11)]
    )  # linear down to min_ratio at the last step
    const = LRSchedule(peak=2.0, warmup=0.1, shape="constant")
    assert [const.lr(i, 20) for i in range(20)] == pytest.approx([1.0, 2.0] + [2.0] * 18)
    with pytest.raises(ConfigError, match="unknown learning-rate schedule 'linear'"):
        LRSchedule(peak=1.0, shape="linear")
    with pytest.raises(ConfigError, match="unknown learning-rate schedule"):
        PRESETS["smoke"].replace(schedule="linear")
    plan = plan_from_dict(
        {"stages": [{"mixture": {"natural": 1}, "tokens": 512, "schedule": "wsd", "stream": "natural"}]}
    )
    assert plan.stages[0].schedule == "wsd" and plan.stages[0].stream == "natural"
    from hyperword.train.plans import stage_schedule

    # what the trainer runs: the stage's shape, else the preset's
    assert stage_schedule(plan.stages[0], PRESETS["smoke"]).shape == "wsd"
    plain = plan_from_dict({"stages": [{"mixture": {"natural": 1}, "tokens": 512}]}).stages[0]
    assert stage_schedule(plain, PRESETS["smoke"]).shape == "cosine"
    assert stage_schedule(plain, PRESETS["smoke"].replace(schedule="constant")).shape == "constant"
    with pytest.raises(ConfigError, match="stage 'stage1': unknown learning-rate schedule"):
        plan_from_dict({"stages": [{"mixture": {"natural": 1}, "tokens": 512, "schedule": "cyclic"}]})


def test_bridge_corpora_join_any_stage() -> None:
    plan = build_arm("mnemo-first", total_tokens=1000, bridge=0.2)
    assert [s.mixture for s in plan.stages] == [
        pytest.approx({"mnemo": 0.8, "bridge": 0.2}),
        pytest.approx({"natural": 0.8, "bridge": 0.2}),
    ]
    one = with_bridge(build_arm("natural-first", total_tokens=1000), 0.1, stages=["mnemo"])
    assert one.stages[0].mixture == {"natural": 1.0} and one.stages[1].mixture == pytest.approx(
        {"mnemo": 0.9, "bridge": 0.1}
    )
    with pytest.raises(ConfigError, match="no stage 'x'"):
        with_bridge(plan, 0.1, stages=["x"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "mnemo-last"}, "unknown arm 'mnemo-last'"),
        ({"name": "joint", "mnemo_fraction": 1.0}, "mnemo fraction"),
        ({"name": "joint", "total_tokens": 1000, "step_tokens": 512}, "not a positive multiple"),
        ({"name": "mnemo-first", "total_tokens": 512, "step_tokens": 512}, "leaves a stage without a step"),
        ({"name": "mnemo-first-lora", "embeddings": "reset"}, "must be 'keep'"),
        ({"name": "mnemo-first", "bridge": 1.0}, "bridge weight"),
        ({"name": "mnemo-first-lora", "lora_tokens": "few"}, "lora_tokens must be one of none, new, all"),
    ],
)
def test_bad_arm_requests_are_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"total_tokens": 4096, **kwargs}
    name = args.pop("name")
    with pytest.raises(ConfigError, match=message):
        build_arm(str(name), **args)  # type: ignore[arg-type]


# --- presets ---------------------------------------------------------------------------------
def test_presets_fix_everything_and_the_cpu_preset_fits_the_experiment() -> None:
    assert set(PRESETS) == {"smoke", "cpu", "gpu"}
    smoke, cpu, gpu = PRESETS["smoke"], PRESETS["cpu"], PRESETS["gpu"]
    assert smoke.size == cpu.size == "tiny" and gpu.size == "base" and 64 <= smoke.seq_len <= 128
    assert 500_000 <= cpu.tokens <= 800_000  # ~90 s at ~6k tokens/s on 2 cores: 12 runs in 30 min
    for p in PRESETS.values():
        assert p.tokens % p.step_tokens == 0 == p.eval_every % p.step_tokens == p.checkpoint_every % p.step_tokens
        assert get_preset(p.name) is p and get_preset(p) is p
    with pytest.raises(ConfigError, match="unknown preset 'laptop'"):
        get_preset("laptop")
    with pytest.raises(ConfigError, match="not a multiple"):
        smoke.replace(tokens=1000)
    with pytest.raises(ConfigError, match="seq_len must be a positive integer"):
        smoke.replace(seq_len=0)
    with pytest.raises(ConfigError, match="unknown model size"):
        smoke.replace(size="xl")


# --- bad input, before any training ----------------------------------------------------------
def _prepare(data: Data, out: Path, **kw: object) -> object:
    args: dict[str, object] = {
        "plan": "mnemo-first",
        "corpora": data.corpora,
        "validation": data.validation,
        "preset": "smoke",
        "seed": 0,
        "out_dir": out,
    }
    args.update(kw)
    return prepare_run(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"plan": "mnemo-last"}, "unknown arm 'mnemo-last'"),
        ({"preset": "laptop"}, "unknown preset 'laptop'"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        (
            {"plan": "unfused-first", "corpora": "natural-only"},
            "stage 'unfused' draws from corpus 'unfused', which is not given",
        ),
        ({"plan": "random-first", "corpora": "natural-only"}, "'random' \\(or 'mnemo', to make a random twin of it\\)"),
        ({"validation": "other-tokenizer"}, "different tokenizers"),
        ({"tokenizer": "other"}, "is not the one the token shards were made with"),
        ({"corpora": "not-a-token-dir"}, "not a token directory"),
        ({"preset": "huge-batches"}, "stage 'mnemo': corpus 'mnemo' has .* fewer than batch_size 4096"),
    ],
)
def test_bad_input_is_a_clear_error_before_anything_is_written(
    data: Data, tmp_path: Path, kw: dict[str, object], message: str
) -> None:
    if kw.get("corpora") == "natural-only":
        kw["corpora"] = {"natural": data.corpora["natural"]}
    if kw.get("corpora") == "not-a-token-dir":
        kw["corpora"] = {**data.corpora, "mnemo": data.tokenizer}
    if kw.get("validation") == "other-tokenizer":
        kw["validation"] = {**data.validation, "other": data.other}
    if kw.get("preset") == "huge-batches":
        big = 64 * 4096
        kw["preset"] = PRESETS["smoke"].replace(batch_size=4096, tokens=2 * big, eval_every=big, checkpoint_every=big)
    if kw.get("tokenizer") == "other":
        kw["tokenizer"] = data.other_tokenizer
    with pytest.raises(ConfigError, match=message):
        _prepare(data, tmp_path / "out", **kw)
    assert not (tmp_path / "out").exists()


def test_a_checked_run_knows_its_corpora_and_the_random_twin_is_made_up_front(data: Data, tmp_path: Path) -> None:
    setup = _prepare(data, tmp_path / "out", plan="random-first", tokenizer=data.tokenizer)
    assert set(setup.corpora) == {"random", "natural", "mnemo"}  # type: ignore[attr-defined]
    assert setup.corpora["random"].path == tmp_path / "out" / "corpora" / "random"  # type: ignore[attr-defined]
    again = _prepare(data, tmp_path / "out", plan="random-first")
    assert again.fingerprint == setup.fingerprint  # type: ignore[attr-defined]
    assert _prepare(data, tmp_path / "out2", plan="random-first", seed=1).fingerprint != setup.fingerprint  # type: ignore[attr-defined]


def test_the_command_line_lists_arms_and_reports_bad_input_in_one_line(
    capsys: pytest.CaptureFixture[str], data: Data, tmp_path: Path
) -> None:
    assert cli_main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(arm in out for arm in ARMS) and all(p in out for p in PRESETS)
    code = cli_main(
        ["--plan", "mnemo-last", "--out", str(tmp_path / "o"), "--corpus", f"mnemo={data.corpora['mnemo']}"]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "unknown arm 'mnemo-last'" in err
    assert (
        cli_main(["--plan", "joint", "--out", str(tmp_path / "o"), "--corpus", "mnemo=a", "--corpus", "mnemo=b"]) == 1
    )
    assert "given twice" in capsys.readouterr().err

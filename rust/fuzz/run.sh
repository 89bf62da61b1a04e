#!/usr/bin/env bash
# Bounded coverage-guided fuzzing (cargo fuzz / libFuzzer) of the lexicon and configuration
# parsers, on stable Rust: `--sanitizer none` (AddressSanitizer needs nightly; the engine has
# no unsafe code that the targets reach other than Arrow's, so panics, aborts, hangs and memory
# blow-ups are what is looked for). Installs cargo-fuzz from crates.io when it is missing.
#
#   rust/fuzz/run.sh [TARGET...]       fuzz each target (default: all) for FUZZ_SECONDS (30) each
#   FUZZ_MERGE=1 rust/fuzz/run.sh      then fold new coverage into rust/fuzz/corpus/ (minimised)
#
# Starts from the committed corpus (rust/fuzz/corpus/TARGET) without writing to it: new inputs go
# to a scratch directory. Exits non-zero on the first crash, panic, timeout (FUZZ_TIMEOUT s for one
# input) or memory blow-up (FUZZ_RSS_MB), leaving the input in $FUZZ_ARTIFACTS and printing it.
# Reproduce one with: rust/fuzz/run.sh --repro TARGET FILE
#
# The build directory and the cargo-fuzz binary live outside the clone, so CI reuses them:
# CARGO_TARGET_DIR is FUZZ_TARGET_DIR (default ~/.cache/hyperword/target-fuzz; not the main one,
# whose artifacts the instrumented build would otherwise invalidate), cargo-fuzz goes to
# ${CARGO_HOME:-~/.cargo}/bin.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${HYPERWORD_CACHE:-$HOME/.cache/hyperword}
seconds=${FUZZ_SECONDS:-30}
timeout=${FUZZ_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}
artifacts=${FUZZ_ARTIFACTS:-$cache/fuzz-artifacts}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$cache/target-fuzz}
CARGO_FUZZ_VERSION=0.13.2

declare -A max_len=([lexicon]=8192 [config]=4096)
all_targets=(lexicon config)

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION from crates.io (a few minutes, once)"
    cargo install --locked --version "$CARGO_FUZZ_VERSION" cargo-fuzz
fi

# Stable toolchain: no sanitizer (ASan is nightly-only), optimised, debug assertions and
# overflow checks on, so arithmetic overflow is a crash too.
flags=(--fuzz-dir "$here" --sanitizer none --release --debug-assertions)
cd "$repo"

if [[ ${1:-} == --repro ]]; then
    exec cargo fuzz run "${flags[@]}" "$2" "$3"
fi

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

mkdir -p "$artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "fuzz: building the targets (target dir $CARGO_TARGET_DIR)"
if ! cargo fuzz build "${flags[@]}" >"$scratch/build.log" 2>&1; then
    tail -n 60 "$scratch/build.log" >&2
    echo "fuzz: the build failed" >&2
    exit 1
fi
failed=()
for t in "${targets[@]}"; do
    seeds=$here/corpus/$t
    mkdir -p "$scratch/$t"
    echo "fuzz: $t for ${seconds}s from $(ls "$seeds" | wc -l) seeds"
    log=$scratch/$t.log
    if cargo fuzz run "${flags[@]}" "$t" "$scratch/$t" "$seeds" -- \
        -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb" \
        -max_len="${max_len[$t]}" -dict="$here/$t.dict" -artifact_prefix="$artifacts/$t-" \
        -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+\s+DONE)' "$log" | sed "s/^/fuzz: $t: /" || true
    else
        failed+=("$t")
        tail -n 60 "$log" >&2
        for f in $(grep -oE "$artifacts/$t-[a-z]+-[0-9a-f]+" "$log" | sort -u); do
            echo "fuzz: $t failed on $f (base64 below); reproduce: rust/fuzz/run.sh --repro $t $f" >&2
            base64 "$f" | head -c 20000 >&2
            echo >&2
        done
    fi
    if [[ ${FUZZ_MERGE:-0} == 1 ]]; then
        # Keep the corpus small: a set cover of the edges (not hit counts) reached, added to
        # the inputs already there (the hand-written seeds stay).
        merged=$scratch/$t.merged
        mkdir -p "$merged"
        cargo fuzz run "${flags[@]}" "$t" "$merged" "$seeds" "$scratch/$t" -- \
            -set_cover_merge=1 -use_counters=0 -max_len="${max_len[$t]}" >"$scratch/$t.merge.log" 2>&1
        cp -n "$merged"/* "$seeds"/ 2>/dev/null || true
        echo "fuzz: $t corpus now $(ls "$seeds" | wc -l) inputs, $(cat "$seeds"/* | wc -c) bytes"
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} passed, 0 failed"

#!/usr/bin/env bash
# `lutlm run` / `lutlm eval` on bad input: a clear message, a non-zero exit, never a crash.
set -u
bin=${LUTLM_BIN:?} shared=${LUTLM_SHARED:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lutlm-run-errors.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
fails=0
expect() { # STATUS NEEDLE CMD...: exit status and a message containing NEEDLE
  local status=$1 needle=$2; shift 2
  local out; out=$("$@" 2>&1 >/dev/null); local got=$?
  if [ $got -ne "$status" ] || [[ "$out" != *"$needle"* ]] || [[ "$out" == *"unknown error"* ]]; then
    echo "FAIL: $* -> exit $got, stderr: $out"; fails=$((fails + 1))
  else
    echo "ok: $needle"
  fi
}
model=$shared/models/stories260K/stories260K-f32.gguf
printf 'not a model at all' > "$tmp/text.gguf"
head -c 3000 "$model" > "$tmp/trunc.gguf"
head -c 20000 "$shared/models/eval-text/tinystories-valid-excerpt.clean.txt" > "$tmp/long.txt"
expect 1 "not a GGUF file" "$bin" run -m "$tmp/text.gguf" -p hi
expect 1 "byte 61" "$bin" run -m "$tmp/trunc.gguf" -p hi
expect 1 "No such file" "$bin" run -m "$tmp/missing.gguf" -p hi
expect 1 "more than the context of 128 allows" "$bin" run -m "$model" -f "$tmp/long.txt" -c 128 -n 4
expect 2 "unknown option" "$bin" run -m "$model" --frobnicate
expect 2 "invalid value for -n" "$bin" run -m "$model" -n lots
expect 2 "unknown KV cache type" "$bin" run -m "$model" -ctk q4
expect 2 "a model is required" "$bin" run -p hi
expect 1 "out of range" "$bin" eval -m "$model" --tokens "1 99999"
expect 1 "unsupported architecture 'gpt2'" "$bin" run -m "$shared/models/llamacpp-vocab/ggml-vocab-gpt-2.gguf" -p hi
[ $fails -eq 0 ] && echo "all run/eval error checks passed"
[ $fails -eq 0 ]

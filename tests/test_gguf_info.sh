#!/usr/bin/env bash
# `lutlm info` on every GGUF under $LUTLM_SHARED/models (found by walking, so new files are covered),
# with and without --tensors, plus its error paths (truncated file, missing file, bad usage).
# Environment: LUTLM_BIN (the lutlm binary), LUTLM_SHARED (the shared data directory).
set -u
bin=${LUTLM_BIN:?LUTLM_BIN not set}
shared=${LUTLM_SHARED:?LUTLM_SHARED not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

count=0
while IFS= read -r -d '' model; do
  count=$((count + 1))
  if ! "$bin" info "$model" >"$tmp/out" 2>"$tmp/err"; then fail "info $model: $(cat "$tmp/err")"; continue; fi
  for want in "file:" "GGUF version: " "architecture: " "tokenizer:" "metadata:" "tensor types:" "parameters: " "file size: "; do
    grep -q "^$want" "$tmp/out" || fail "info $model: no '$want' line"
  done
  # --tensors lists exactly as many tensors as the header line announces
  n=$(sed -n 's/^GGUF version: [0-9]* ([0-9]* keys, \([0-9]*\) tensors.*/\1/p' "$tmp/out")
  if ! "$bin" info --tensors "$model" >"$tmp/out_t" 2>"$tmp/err"; then fail "info --tensors $model"; continue; fi
  listed=$(grep -cE '^ +[0-9]+  .* offset +[0-9]+ +[0-9]+ bytes$' "$tmp/out_t")
  [ "$listed" = "$n" ] || fail "info --tensors $model: listed $listed tensors, header says '$n'"
done < <(find "$shared/models" -name '*.gguf' -print0 | sort -z)
[ "$count" -ge 10 ] || fail "found only $count GGUF files under $shared/models"

# A known model: architecture, a hyper-parameter, the tokenizer line and the type histogram.
tiny=$shared/models/bitnet-b158-tiny/bitnet-b158-tiny-i2_s.gguf
if [ -f "$tiny" ]; then
  "$bin" info "$tiny" >"$tmp/tiny" 2>&1
  grep -q '^architecture: bitnet-b1.58$' "$tmp/tiny" || fail "tiny: architecture"
  grep -qE '^  embedding_length +256$' "$tmp/tiny" || fail "tiny: embedding_length"
  grep -q 'model llama, vocab 512 tokens, bos 1 "<s>", eos 2 "</s>"' "$tmp/tiny" || fail "tiny: tokenizer line"
  grep -qE '^  i2_s +28 tensors' "$tmp/tiny" || fail "tiny: i2_s histogram"
  grep -q 'tokenizer.ggml.tokens  *\[512 strings: "<unk>", "<s>", "</s>", ' "$tmp/tiny" || fail "tiny: abbreviated array"
fi

# Errors: a truncated copy, a missing file, usage.
head -c 100 "$tiny" >"$tmp/truncated.gguf"
"$bin" info "$tmp/truncated.gguf" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 1 ] || fail "truncated file: exit $rc, expected 1"
grep -q "^lutlm info: .*truncated.gguf: byte [0-9]*: " "$tmp/err" || fail "truncated file: message '$(cat "$tmp/err")'"
"$bin" info "$tmp/missing.gguf" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q "^lutlm info: .*missing.gguf" "$tmp/err" || fail "missing file: exit $rc, '$(cat "$tmp/err")'"
"$bin" info --help >"$tmp/help" 2>&1 && grep -q "usage: lutlm info" "$tmp/help" || fail "--help"
"$bin" info >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "no argument: exit $rc, expected 2"
"$bin" info --bogus "$tiny" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "unknown option: exit $rc, expected 2"

echo "lutlm info: $count GGUF files, $failures failures"
[ $failures = 0 ]

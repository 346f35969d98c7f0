#!/usr/bin/env bash
# `lutlm convert` through the command line.
#   convert_cli.sh unit : --help, usage errors, a truncated checkpoint, a ternary conversion
#   convert_cli.sh e2e  : convert the shared llama2.c / bitllama2.c checkpoints and check that
#                         `lutlm run` (greedy) on the results starts with the reference texts
set -u
bin=${LUTLM_BIN:?LUTLM_BIN not set}
shared=${LUTLM_SHARED:?LUTLM_SHARED not set}
m=$shared/models
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lutlm-convert-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS NEEDLE CMD...: exit status STATUS and NEEDLE in stdout+stderr
expect() {
  local status=$1 needle=$2; shift 2
  local out; out=$("$@" 2>&1); local got=$?
  [ $got -eq "$status" ] || fail "$* exited $got, expected $status: $out"
  case "$out" in *"$needle"*) ;; *) fail "$*: output lacks '$needle': $out" ;; esac
}

# golden_prefix MODEL PROMPT GOLDEN [CHARS]: the golden text (after "<s> " / leading spaces, without
# its trailing newline; only its first CHARS characters if given) starts the greedy output of 300 tokens
golden_prefix() {
  local model=$1 prompt=$2 golden=$3
  local out; out=$("$bin" run -m "$model" -p "$prompt" -n 300 --temp 0 -t 1 -ctk f32 -ctv f32 2>/dev/null) || { fail "run $model"; return; }
  local want; want=$(sed -e '1s/^<s> //' -e '1s/^[[:space:]]*//' "$golden")
  local chars=${4:-${#want}}; want=${want:0:$chars}
  out=$(printf '%s' "$out" | sed -e '1s/^[[:space:]]*//')
  [ "${out:0:$chars}" == "$want" ] && echo "OK: $(basename "$model"): first $chars characters of $(basename "$golden")" \
    || fail "$(basename "$model"): output differs from $golden: '${out:0:$chars}'"
}

case ${1:-unit} in
unit)
  expect 0 "usage: lutlm convert" "$bin" convert --help
  expect 2 "no input file" "$bin" convert
  expect 2 "no output file" "$bin" convert "$m/stories260K/stories260K.bin"
  expect 2 "unknown option" "$bin" convert --frobnicate
  expect 2 "--bit-order must be" "$bin" convert x.bin -o y.gguf --bit-order middle
  head -c 50000 "$m/stories260K/stories260K.bin" > "$tmp/trunc.bin"
  expect 1 "file too short for the header's shapes" "$bin" convert "$tmp/trunc.bin" -t "$m/stories260K/tok512.bin" -o "$tmp/t.gguf"
  [ -e "$tmp/t.gguf" ] && fail "a failed conversion left $tmp/t.gguf"
  expect 1 "tokenizer" "$bin" convert "$m/stories260K/stories260K.bin" -o "$tmp/t.gguf"
  expect 0 "bit order: LSB-first" "$bin" convert "$m/bitllama2c-ternary/bitllama2c-3M-tern-lsb.bin" \
    -t "$m/bitllama2c-ternary/tok512.bin" -o "$tmp/3m.gguf" --name test-3m
  [ -s "$tmp/3m.gguf" ] || fail "no output written"
  expect 0 "" "$bin" convert -q "$m/stories260K/stories260K.bin" -t "$m/stories260K/tok512.bin" -o "$tmp/s.gguf"
  # tokenizer.json goes to the tokenizer engineer's importer
  printf '{"model": ' > "$tmp/bad.json"
  expect 1 "JSON" "$bin" convert "$tmp/bad.json" -o "$tmp/bad.gguf"
  expect 0 "wrote" "$bin" convert "$m/tokenizer-qwen3-npm/tokenizer.json" -o "$tmp/qwen3-vocab.gguf"
  ;;
e2e)
  "$bin" convert -q "$m/stories260K/stories260K.bin" -t "$m/stories260K/tok512.bin" -o "$tmp/stories260K.gguf" || fail convert
  golden_prefix "$tmp/stories260K.gguf" "Once upon a time" "$shared/golden/stories260K/llama2c-runc-greedy256.txt"
  for order in msb lsb; do
    "$bin" convert -q "$m/bitllama2c-ternary/bitllama2c-3M-tern-$order.bin" -t "$m/bitllama2c-ternary/tok512.bin" \
      -o "$tmp/3m-$order.gguf" || fail "convert $order"
    # the whole text of bitllama2.c's own runner (int8 activations, runbit.c's arithmetic)
    golden_prefix "$tmp/3m-$order.gguf" "Once upon a time" "$shared/golden/bitllama2c-3M/runbit-3M-greedy256-prompt.txt"
    golden_prefix "$tmp/3m-$order.gguf" "" "$shared/golden/bitllama2c-3M/runbit-3M-greedy256-noprompt.txt"
  done
  ;;
esac
[ $fails -eq 0 ] && echo "all convert CLI checks passed"
[ $fails -eq 0 ]

#!/usr/bin/env bash
# Quantize a model and check its perplexity (llama-perplexity's method: -c 128 -b 128, 2 threads)
# on the shared TinyStories excerpt.
#   lowbit_ppl.sh SOURCE.gguf TYPE MAX_PPL [QUANTIZE_OPTION...]
# TYPE: a `lutlm quantize` type, or "q8_0+f16" (q8_0 where rows are whole blocks, else F16, written
# by $LOWBIT_HELPER write_q8_0_fallback). MAX_PPL "-" only prints the value (no threshold).
# QUANTIZE_OPTIONs go to `lutlm quantize` (e.g. --method gptq).
set -u
src=$1 type=$2 max=$3
shift 3
bin=${LUTLM_BIN:?LUTLM_BIN not set}
text=${LUTLM_SHARED:?LUTLM_SHARED not set}/models/eval-text/tinystories-valid-excerpt.clean.txt
out=lowbit-ppl-$$-$(basename "$src" .gguf)-$type.gguf
trap 'rm -f "$out"' EXIT
if [ "$type" == "q8_0+f16" ]; then
  "${LOWBIT_HELPER:?LOWBIT_HELPER not set}" write_q8_0_fallback "$src" "$out" || { echo "FAIL: cannot write $out"; exit 1; }
else
  "$bin" quantize -q "$src" "$out" "$type" "$@" || { echo "FAIL: lutlm quantize $type"; exit 1; }
fi
# lutlm's low-bit formats must run through the LUT kernels (repacked at load) unless LUTLM_KERNELS=0
if [ "$type" != "q8_0+f16" ] && [ "${LUTLM_KERNELS:-1}" != 0 ] && ! "$bin" info "$out" | grep -q "^  $type .*repacked for the LUT kernels"; then
  echo "FAIL: lutlm info does not say $type is repacked for the LUT kernels"; exit 1
fi
# F32 KV cache: the weights alone make the difference to the F32 model's value
log=$("$bin" perplexity -m "$out" -c 128 -b 128 -t 2 -ctk f32 -ctv f32 -f "$text" 2>&1)
ppl=$(printf '%s\n' "$log" | sed -n 's/^Final estimate: PPL = \([0-9.]*\).*/\1/p')
if [ -z "$ppl" ]; then printf '%s\n' "$log" | tail -5; echo "FAIL: no perplexity"; exit 1; fi
echo "$(basename "$src") as $type: perplexity $ppl (limit $max)"
if [ "$max" == "-" ]; then exit 0; fi
if awk -v p="$ppl" -v m="$max" 'BEGIN { exit !(p <= m) }'; then echo "OK"; exit 0; fi
echo "FAIL: perplexity $ppl > $max"
exit 1

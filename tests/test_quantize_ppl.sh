#!/usr/bin/env bash
# Perplexity of the ternary 3M model re-encoded from F32 by `lutlm quantize` (acceptance: within
# +0.01 of the F32 file's 3.4168 on the shared eval text, -c 128, as llama.cpp measures it).
# usage: test_quantize_ppl.sh TYPE MAX_PPL     (env: LUTLM_BIN, LUTLM_SHARED)
set -euo pipefail
type=$1 max=$2
bin=${LUTLM_BIN:?} shared=${LUTLM_SHARED:?}
out=test-quantize-ppl-3M-$type.gguf
"$bin" quantize -q "$shared/models/bitllama2c-ternary/bitllama2c-3M-f32.gguf" "$out" "$type"
ppl=$("$bin" perplexity -m "$out" -f "$shared/models/eval-text/tinystories-valid-excerpt.clean.txt" -c 128 -b 128 -t 2 -ctk f32 -ctv f32 2>&1 |
      sed -n 's/.*PPL = \([0-9.]*\).*/\1/p' | tail -n 1)
rm -f "$out"
echo "$type: PPL ${ppl:-?} (must be <= $max)"
awk -v p="$ppl" -v m="$max" 'BEGIN { exit !(p != "" && p + 0 <= m + 0) }'

#!/usr/bin/env bash
# Check that `lutlm run` (greedy) prints a golden text as a prefix of its stdout.
#   run_golden.sh MODEL PROMPT GOLDEN_FILE N_PREDICT [extra lutlm run args...]
# The golden's leading whitespace / "<s> " and trailing newlines are dropped before comparing, and so
# is leading whitespace of our output (llama.cpp prints a leading space, llama2.c does not).
set -u
model=$1 prompt=$2 golden=$3 n=$4; shift 4
bin=${LUTLM_BIN:?LUTLM_BIN not set}
out=$("$bin" run -m "$model" -p "$prompt" -n "$n" --temp 0 -t 1 "$@" 2>/tmp/lutlm-run-golden.$$.err)
status=$?
if [ $status -ne 0 ]; then cat /tmp/lutlm-run-golden.$$.err; rm -f /tmp/lutlm-run-golden.$$.err; echo "FAIL: lutlm run exited $status"; exit 1; fi
rm -f /tmp/lutlm-run-golden.$$.err
python_free_strip() { sed -e '1s/^<s> //' -e '1s/^[[:space:]]*//' | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}'; }
want=$(python_free_strip < "$golden")
got=$(printf '%s' "$out" | python_free_strip)
# $(...) already dropped trailing newlines
if [ "${got:0:${#want}}" == "$want" ]; then
  echo "OK: golden text (${#want} chars) is a prefix of the output"
  exit 0
fi
# report where they diverge
i=0; while [ $i -lt ${#want} ] && [ "${got:$i:1}" == "${want:$i:1}" ]; do i=$((i+1)); done
echo "FAIL: output differs from $golden at character $i of ${#want}"
echo "  want: ...${want:$((i>40?i-40:0)):80}"
echo "  got:  ...${got:$((i>40?i-40:0)):80}"
exit 1

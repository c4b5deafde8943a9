#!/bin/bash
# One measurement of a quire up worker's memory with the ML analyzer on and
# off (docs/benchmarks.md): QUIRE is the binary, MODEL a trained model made
# active, QUIRE_TEST_CORPORA the corpora of scripts/corpora.sh.
set -u
Q=${QUIRE:-quire}
C=${QUIRE_TEST_CORPORA:-/var/tmp/quire-corpora}
for mode in on off; do
  D=/tmp/ml-rss-$mode; I=/tmp/ml-rss-inbox-$mode
  rm -rf $D $I; mkdir -p $I
  $Q --data-dir $D ml publish --model ${MODEL:-/tmp/sa3.qml} --activate >/dev/null
  ls $C/spamassassin/easy-ham-1 | head -60 | while read f; do cp $C/spamassassin/easy-ham-1/$f $I/; done
  ls $C/udhr | head -150 | while read f; do cp $C/udhr/$f $I/; done
  n=$(ls $I | wc -l)
  flag=--ml=true; [ $mode = off ] && flag=--ml=false
  $Q --data-dir $D --log-level warn up $flag --addr 127.0.0.1:0 --inbox $I 2>$D.log &
  pid=$!
  start=$(date +%s)
  while [ "$(ls $I | wc -l)" -gt 0 ] && [ $(( $(date +%s) - start )) -lt 300 ]; do sleep 1; done
  sleep 3
  echo "mode=$mode files=$n left=$(ls $I | wc -l) done=$(ls $I/.done 2>/dev/null | wc -l) failed=$(ls $I/.failed 2>/dev/null | wc -l) secs=$(( $(date +%s) - start ))"
  grep -E "VmRSS|VmHWM" /proc/$pid/status
  kill -TERM $pid; wait $pid
done

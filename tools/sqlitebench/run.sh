#!/usr/bin/env bash
# Re-run the driver benchmark: ROUNDS rounds (default 3), drivers interleaved
# (order rotated each round) so the shared machine's noise spreads over all
# of them. Each run writes results/<driver>-<stamp>-<round>.json; runs are
# appended to what is there (rm results/*.json to start over). The medians
# of all runs go to results/table.md (measurements disturbed by other
# processes are left out; see report.go).
set -euo pipefail
cd "$(dirname "$0")"
rounds=${1:-3}
stamp=$(date +%Y%m%d%H%M%S)
mkdir -p results
drivers=(modernc ncruces mattn)
for i in $(seq 1 "$rounds"); do
  for j in 0 1 2; do
    d=${drivers[$(( (i + j) % 3 ))]}
    echo "== round $i $d" >&2
    if [ "$d" = mattn ]; then
      CGO_ENABLED=1 go run -tags mattn . -driver=mattn -out=json -quiet-wait=30s >"results/$d-$stamp-$i.json"
    else
      go run . -driver="$d" -out=json -quiet-wait=30s >"results/$d-$stamp-$i.json"
    fi
  done
done
go run . -report results/*.json | tee results/table.md

#!/usr/bin/env bash
# Build facts for the three drivers (measurement 6): cgo need, -race,
# hello-world binary sizes, linux/arm64 cross builds, cold build time.
# Binaries go to a temp dir, never into the tree. Output: results/build.md
set -uo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d /tmp/sqlitebench-build-XXXX)
trap 'rm -rf "$out"' EXIT
md=results/build.md
mkdir -p results
sz() { stat -c %s "$1" 2>/dev/null | awk '{printf "%.1f MiB", $1/1048576}'; }
# run CMD..., print "ok (Ns)" or "FAIL (Ns): first error line"
try() {
  local t0 t1 rc log=$out/log
  t0=$(date +%s.%N); "$@" >"$log" 2>&1; rc=$?; t1=$(date +%s.%N)
  local secs; secs=$(echo "$t1 - $t0" | bc)
  if [ $rc -eq 0 ]; then printf 'ok (%.1fs)' "$secs"; else printf 'FAIL (%.1fs): %s' "$secs" "$(grep -v '^#' "$log" | head -1 | cut -c1-160)"; fi
}
# run TestRaceSmoke/$d 3 times (build cached), print the subtest's own times
subtest() {
  CGO_ENABLED=1 go test "$@" -count=3 -v -run "TestRaceSmoke/$d\$" . >"$out/t.log" 2>&1 || { echo "FAIL: $(grep -m1 -i 'fail\|error' "$out/t.log")"; return; }
  grep -o -- "--- PASS: TestRaceSmoke/$d ([0-9.]*s)" "$out/t.log" | sed -E 's/.*\(([0-9.]+s)\)/\1/' | paste -sd' '
}
{
echo "# Build facts"
echo
echo "$(go version); gcc: $(gcc --version | head -1); go env CGO_ENABLED default: $(go env CGO_ENABLED)"
echo
echo "| fact | modernc | ncruces | mattn |"
echo "|---|---|---|---|"
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }
declare -A r
for d in modernc ncruces mattn; do
  r[cold,$d]=$(GOCACHE=$out/cache-$d try go build -o $out/$d-cold ./hello/$d)
  rm -rf $out/cache-$d
  r[def,$d]=$(try go build -o $out/$d ./hello/$d)
  r[size,$d]=$(sz $out/$d)
  r[link,$d]=$(file -b $out/$d | grep -o 'statically linked\|dynamically linked' )
  r[run,$d]=$($out/$d 2>&1 | head -1)
  go build -ldflags='-s -w' -o $out/$d-s ./hello/$d && r[sizes,$d]=$(sz $out/$d-s)
  r[nocgo,$d]=$(CGO_ENABLED=0 try go build -o $out/$d-nocgo ./hello/$d)
  r[nocgorun,$d]=$($out/$d-nocgo 2>&1 | head -1)
  r[arm,$d]=$(CGO_ENABLED=0 GOOS=linux GOARCH=arm64 try go build -o $out/$d-arm64 ./hello/$d)
  r[armsize,$d]=$(sz $out/$d-arm64)
  r[armcgo,$d]=$(CGO_ENABLED=1 GOOS=linux GOARCH=arm64 try go build -o $out/$d-arm64cgo ./hello/$d)
  tags=""; [ $d = mattn ] && tags="-tags=mattn"
  r[racecold,$d]=$(GOCACHE=$out/rcache-$d CGO_ENABLED=1 try go build -race -o $out/$d-race ./hello/$d)
  rm -rf $out/rcache-$d
  r[racerun,$d]=$($out/$d-race 2>&1 | head -1)
  r[race,$d]=$(subtest $tags -race)
  r[norace,$d]=$(subtest $tags)
  r[racenocgo,$d]=$(CGO_ENABLED=0 try go test $tags -race -count=1 -run "TestRaceSmoke/$d" .)
done
row "cold \`go build\` of hello (empty GOCACHE; module cache warm)" "${r[cold,modernc]}" "${r[cold,ncruces]}" "${r[cold,mattn]}"
row "hello binary, default \`go build\`" "${r[size,modernc]}, ${r[link,modernc]}" "${r[size,ncruces]}, ${r[link,ncruces]}" "${r[size,mattn]}, ${r[link,mattn]}"
row "hello binary, \`-ldflags='-s -w'\`" "${r[sizes,modernc]}" "${r[sizes,ncruces]}" "${r[sizes,mattn]}"
row "hello runs" "${r[run,modernc]}" "${r[run,ncruces]}" "${r[run,mattn]}"
row "\`CGO_ENABLED=0 go build\` (build cache warm)" "${r[nocgo,modernc]}" "${r[nocgo,ncruces]}" "${r[nocgo,mattn]}"
row "… and that binary runs" "${r[nocgorun,modernc]}" "${r[nocgorun,ncruces]}" "${r[nocgorun,mattn]}"
row "\`CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build\`" "${r[arm,modernc]}, ${r[armsize,modernc]}" "${r[arm,ncruces]}, ${r[armsize,ncruces]}" "${r[arm,mattn]}, ${r[armsize,mattn]} (the stub above)"
row "\`CGO_ENABLED=1 GOARCH=arm64 go build\` (no arm64 C cross compiler installed; pure-Go drivers that pull in runtime/cgo fail the same way, so build them with CGO_ENABLED=0)" "${r[armcgo,modernc]}" "${r[armcgo,ncruces]}" "${r[armcgo,mattn]}"
row "cold \`go build -race\` of hello (empty GOCACHE)" "${r[racecold,modernc]}" "${r[racecold,ncruces]}" "${r[racecold,mattn]}"
row "… and the -race hello runs" "${r[racerun,modernc]}" "${r[racerun,ncruces]}" "${r[racerun,mattn]}"
row "TestRaceSmoke/<driver> under \`go test -race\` (3 runs)" "${r[race,modernc]}" "${r[race,ncruces]}" "${r[race,mattn]}"
row "TestRaceSmoke/<driver> under plain \`go test\` (3 runs)" "${r[norace,modernc]}" "${r[norace,ncruces]}" "${r[norace,mattn]}"
row "\`CGO_ENABLED=0 go test -race\`" "${r[racenocgo,modernc]}" "${r[racenocgo,ncruces]}" "${r[racenocgo,mattn]}"
} >"$md"
cat "$md"

#!/bin/sh
# Runs every fuzz test (func FuzzXxx(f *testing.F)) of every package for
# FUZZTIME each (default 1m): the seed corpora already run in `make test`;
# this searches beyond them. Tests are found, not listed, so new ones
# join on their own. A crash is written under the package's
# testdata/fuzz/ by go test: commit it, it becomes a seed.
#   FUZZTIME=10m scripts/fuzz.sh          all of them, longer
#   FUZZ=FuzzReturnPath scripts/fuzz.sh   only those matching a regexp
#   FUZZPARALLEL=1 scripts/fuzz.sh        fewer workers on a shared box
set -eu
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-1m}
match=${FUZZ:-.}
parallel=${FUZZPARALLEL:+-parallel $FUZZPARALLEL}

dirs=$(grep -rl --include='*_test.go' '^func Fuzz[A-Z0-9_]' . | grep -v '/testdata/' | xargs -r -n1 dirname | sort -u)
if [ -z "$dirs" ]; then
	echo "fuzz: no fuzz tests found" >&2
	exit 1
fi
failed=""
count=0
for dir in $dirs; do
	for name in $(go test -list '^Fuzz' "$dir" | grep '^Fuzz' | grep -E -- "$match" || true); do
		count=$((count + 1))
		echo "fuzz: $dir $name for $fuzztime" >&2
		# shellcheck disable=SC2086 # $parallel is empty or two words
		if ! go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" $parallel "$dir"; then
			failed="$failed $dir:$name"
		fi
	done
done
if [ "$count" -eq 0 ]; then
	echo "fuzz: no fuzz test matches FUZZ=$match" >&2
	exit 1
fi
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed (inputs saved under each package's testdata/fuzz/)" >&2
	exit 1
fi
echo "fuzz: $count fuzz tests ran $fuzztime each without a failure" >&2

#!/usr/bin/env bash
# Runs the libFuzzer targets that `make fuzz` built: tests/fuzz/run.sh DIR SECONDS TARGET...
# Each target starts from a copy of its checked-in seeds (DIR/corpus-TARGET, which keeps what
# the run finds, so the seeds in tests/fuzz/corpus/ stay small) and runs for SECONDS. A crash,
# a leak, a timeout or an out-of-memory fails the run and names the reproducer; replay one with
#   DIR/fuzz_TARGET DIR/artifacts-TARGET/crash-...
set -u
cd "$(dirname "$0")/../.."
dir=$1
secs=$2
shift 2
fail=0
for t in "$@"; do
	bin=$dir/fuzz_$t
	corpus=$dir/corpus-$t
	art=$dir/artifacts-$t
	log=$dir/fuzz-$t.log
	mkdir -p "$corpus" "$art"
	rm -f "$art"/* # what an earlier run found is not this run's reproducer
	cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
	printf '== fuzz_%s for %ss (corpus %s)\n' "$t" "$secs" "$corpus"
	# -timeout: one input taking 5 s is a hang; -rss_limit_mb: a parser that allocates without
	# bound is a bug too. Leaks are ASan's (detect_leaks is on by default under libFuzzer).
	if "$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$art/" "$corpus" >"$log" 2>&1; then
		grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
			"$log" | tr '\n' ' '
		grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1
	else
		fail=1
		tail -n 60 "$log"
		echo "FAILED: fuzz_$t (log $log)"
		for a in "$art"/*; do
			[ -e "$a" ] && echo "reproducer: $a   (run: $bin $a)"
		done
	fi
done
exit $fail

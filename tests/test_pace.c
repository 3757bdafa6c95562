// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * src/agent/pace.c: how often the agent's loop turns. Turns are what a storm costs the agent
 * beyond its records (a wakeup, a sleep, caches cold after them), so a storm must get a turn per
 * EW_TURN_BUSY_NS whatever its rate above 800 records a second, and anything slower a turn per
 * EW_TURN_MIN_NS at most, for latency.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exitwatch/agent/pace.h"

#define MS (1000ULL * 1000)
#define S  (1000ULL * MS)

/*
 * The agent's loop against a steady producer of rate records a second, for secs seconds: it
 * waits out the pace's rest, and when nothing is pending, sleeps in poll() until the next
 * record comes (the kernel side wakes it); each turn's work takes 200 us. Returns its turns a
 * second.
 */
static double turns_per_second(uint64_t rate, uint64_t secs)
{
	uint64_t t = 1 * S, start = t, end = t + secs * S, produced, consumed;
	struct ew_pace p;
	unsigned turns = 0;

	ew_pace_init(&p);
	consumed = t * rate / S;
	while (t < end) {
		t += ew_pace_rest(&p, t);
		ew_pace_turn(&p, t);
		produced = t * rate / S;
		if (produced == consumed) { /* poll() until the next record */
			produced = consumed + 1;
			t = (produced * S + rate - 1) / rate;
		}
		ew_pace_taken(&p, (int)(produced - consumed), t);
		consumed = produced;
		turns++;
		t += 200 * 1000;
	}
	return turns / ((double)(t - start) / S);
}

/* A storm gets a turn per EW_TURN_BUSY_NS at any rate from 800 a second. With a count per
 * turn instead of a rate, 1,000 to 3,000 a second read every 10 ms stayed at 100 turns a
 * second (fewer than 32 a turn). */
static void test_storm_turns_are_busy_apart(void **state)
{
	static const uint64_t rates[] = {900, 1500, 2500, 3000, 5000, 50000};

	(void)state;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		double tps = turns_per_second(rates[i], 3);

		print_message("%llu records/s: %.1f turns/s\n", (unsigned long long)rates[i], tps);
		assert_true(tps <= 26.0);
		assert_true(tps >= 20.0);
	}
}

/* Below a storm's rate, records are not held back: a turn per EW_TURN_MIN_NS at most, or one
 * per record when they come further apart. */
static void test_slow_records_keep_their_latency(void **state)
{
	(void)state;
	assert_true(turns_per_second(600, 3) >= 90.0);
	assert_true(turns_per_second(300, 3) >= 90.0);
	/* a record every 20 ms: a turn each */
	assert_true(turns_per_second(50, 3) >= 49.0);
	assert_true(turns_per_second(50, 3) <= 51.0);
}

/* The boundary is the rate, whatever the time since the last read. */
static void test_busy_is_a_rate(void **state)
{
	struct ew_pace p;

	(void)state;
	ew_pace_init(&p);
	assert_false(ew_pace_busy(&p));
	ew_pace_taken(&p, 5, 1 * S);
	assert_false(ew_pace_busy(&p)); /* the loop's first read: no rate to tell */
	ew_pace_taken(&p, 32, 1 * S + 40 * MS);
	assert_true(ew_pace_busy(&p)); /* 800 a second */
	ew_pace_taken(&p, 31, 1 * S + 80 * MS);
	assert_false(ew_pace_busy(&p));
	ew_pace_taken(&p, 8, 1 * S + 90 * MS);
	assert_true(ew_pace_busy(&p)); /* 800 a second over 10 ms */
	ew_pace_taken(&p, 7, 1 * S + 100 * MS);
	assert_false(ew_pace_busy(&p));
	ew_pace_taken(&p, 1000, 1 * S + 140 * MS);
	assert_true(ew_pace_busy(&p));
	/* the storm ends: a few records over the busy gap */
	ew_pace_taken(&p, 2, 1 * S + 180 * MS);
	assert_false(ew_pace_busy(&p));
	/* a read that failed takes nothing */
	ew_pace_taken(&p, 1000, 1 * S + 190 * MS);
	assert_true(ew_pace_busy(&p));
	ew_pace_taken(&p, -4, 1 * S + 200 * MS);
	assert_false(ew_pace_busy(&p));
	/* an idle second, then a burst of a pod's containers within a millisecond */
	ew_pace_taken(&p, 12, 2 * S + 201 * MS);
	assert_false(ew_pace_busy(&p));
}

/* The rest is counted from the turn's start. */
static void test_rest(void **state)
{
	struct ew_pace p;

	(void)state;
	ew_pace_init(&p);
	assert_int_equal(ew_pace_rest(&p, 5 * S), 0); /* the first turn goes at once */
	ew_pace_turn(&p, 5 * S);
	assert_int_equal(ew_pace_rest(&p, 5 * S + 3 * MS), 7 * MS);
	assert_int_equal(ew_pace_rest(&p, 5 * S + 10 * MS), 0);
	ew_pace_taken(&p, 10, 5 * S + 1 * MS);
	ew_pace_taken(&p, 100, 5 * S + 2 * MS);
	assert_true(ew_pace_busy(&p));
	assert_int_equal(ew_pace_rest(&p, 5 * S + 15 * MS), 25 * MS);
	assert_int_equal(ew_pace_rest(&p, 5 * S + 40 * MS), 0);
	assert_int_equal(ew_pace_rest(&p, 5 * S + 50 * MS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storm_turns_are_busy_apart),
		cmocka_unit_test(test_slow_records_keep_their_latency),
		cmocka_unit_test(test_busy_is_a_rate),
		cmocka_unit_test(test_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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
		double tps = turns_per_second(rates[i], 10);

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

/* The boundary is the rate over a window of EW_TURN_BUSY_NS or more. */
static void test_busy_is_a_rate(void **state)
{
	struct ew_pace p;

	(void)state;
	ew_pace_init(&p);
	assert_false(ew_pace_busy(&p));
	ew_pace_taken(&p, 500, 1 * S);
	assert_false(ew_pace_busy(&p)); /* the loop's first read: no rate to tell */
	ew_pace_taken(&p, 32, 1 * S + 40 * MS);
	assert_true(ew_pace_busy(&p)); /* 800 a second */
	ew_pace_taken(&p, 31, 1 * S + 80 * MS);
	assert_false(ew_pace_busy(&p));
	/* reads 10 ms apart count together until the window is full */
	for (int i = 1; i <= 3; i++) {
		ew_pace_taken(&p, 8, 1 * S + (80 + 10 * i) * MS);
		assert_false(ew_pace_busy(&p));
	}
	ew_pace_taken(&p, 8, 1 * S + 120 * MS);
	assert_true(ew_pace_busy(&p)); /* 32 in 40 ms */
	ew_pace_taken(&p, 7, 1 * S + 130 * MS);
	assert_true(ew_pace_busy(&p)); /* the window is not full: the pace stays */
	ew_pace_taken(&p, 1, 1 * S + 160 * MS);
	assert_false(ew_pace_busy(&p)); /* the storm ended: 8 in 40 ms */
	/* a read that failed takes nothing */
	ew_pace_taken(&p, 1000, 1 * S + 200 * MS);
	assert_true(ew_pace_busy(&p));
	ew_pace_taken(&p, -4, 1 * S + 240 * MS);
	assert_false(ew_pace_busy(&p));
	/* an idle second, then a burst of a pod's containers within a millisecond */
	ew_pace_taken(&p, 30, 2 * S + 240 * MS);
	assert_false(ew_pace_busy(&p));
}

/*
 * A container's start comes as a burst (runc's bootstrap: its execs and exits, ten records or
 * more within milliseconds). Containers started one after another are not a storm, however
 * close a burst's records are: a rate over one 10 ms turn took them for one, and held their
 * exits' findings back by a busy turn (the latency bench's Docker p50 went from 24 to 40 ms).
 */
static void test_bursts_are_not_a_storm(void **state)
{
	struct ew_pace p;
	uint64_t t = 1 * S;

	(void)state;
	ew_pace_init(&p);
	ew_pace_taken(&p, 0, t);
	for (int i = 0; i < 40; i++) {
		t += 250 * MS;
		ew_pace_taken(&p, 4, t);	    /* the burst's first records wake the loop */
		ew_pace_taken(&p, 10, t + 10 * MS); /* the rest a turn later */
		assert_false(ew_pace_busy(&p));
		assert_int_equal(ew_pace_rest(&p, t + 10 * MS), 0);
	}
	/* the same bursts every 10 ms are a storm (1,200 a second) within a window */
	ew_pace_taken(&p, 12, t + 20 * MS);
	for (int i = 3; i <= 6; i++)
		ew_pace_taken(&p, 12, t + 10 * i * MS);
	assert_true(ew_pace_busy(&p));
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
	ew_pace_taken(&p, 10, 4 * S);
	ew_pace_taken(&p, 100, 5 * S + 2 * MS);
	assert_false(ew_pace_busy(&p)); /* 100 over a second */
	ew_pace_taken(&p, 100, 5 * S + 42 * MS);
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
		cmocka_unit_test(test_bursts_are_not_a_storm),
		cmocka_unit_test(test_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

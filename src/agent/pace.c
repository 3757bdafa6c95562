// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "exitwatch/agent/pace.h"

void ew_pace_init(struct ew_pace *p)
{
	*p = (struct ew_pace){.gap_ns = EW_TURN_MIN_NS};
}

uint64_t ew_pace_rest(const struct ew_pace *p, uint64_t now_ns)
{
	uint64_t since = now_ns - p->turn_ns;

	return p->turn_ns && since < p->gap_ns ? p->gap_ns - since : 0;
}

void ew_pace_turn(struct ew_pace *p, uint64_t now_ns)
{
	p->turn_ns = now_ns;
}

void ew_pace_taken(struct ew_pace *p, int taken, uint64_t now_ns)
{
	bool busy;

	/* The first read has nothing to count a rate from: what it took came since the load. */
	if (!p->window_ns) {
		p->window_ns = now_ns;
		return;
	}
	if (taken > 0)
		p->taken += (uint64_t)taken;
	if (now_ns - p->window_ns < EW_TURN_BUSY_NS)
		return; /* the pace stays as the last full window set it */
	/* taken / window >= EW_TURN_BUSY_RECORDS / EW_TURN_BUSY_NS, without a division */
	busy = p->taken * EW_TURN_BUSY_NS >= EW_TURN_BUSY_RECORDS * (now_ns - p->window_ns);
	p->gap_ns = busy ? EW_TURN_BUSY_NS : EW_TURN_MIN_NS;
	p->window_ns = now_ns;
	p->taken = 0;
}

bool ew_pace_busy(const struct ew_pace *p)
{
	return p->gap_ns == EW_TURN_BUSY_NS;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * exitwatch_finding_active{rule,severity,workload,identity}: 1 while a finding's episode is open,
 * 0 once it resolved, so that an alert can follow a finding's state instead of counting finding
 * records in a window. identity is empty for a workload-scoped finding. One series per (rule,
 * workload, identity); at most EW_ACTIVE_MAX: a new one takes the place of the oldest resolved
 * one, and when every series is open it is counted in
 * exitwatch_finding_active_dropped_total instead. The stable milestone has no episode: not here.
 */
#include <stdlib.h>
#include <string.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/identity/identity.h"
#include "exitwatch/util/util.h"
#include "metrics/metrics_int.h"

#define EW_ACTIVE_MAX 1000

struct active {
	char *key; /* rule \0 workload \0 identity \0: also the label values */
	size_t klen;
	const char *wl, *ident;
	enum ew_rule rule;
	enum ew_severity sev;
	bool open;
};

struct ew_active_set {
	struct active v[EW_ACTIVE_MAX]; /* first seen first */
	uint32_t n;
	uint64_t dropped;
};

struct ew_active_set *ew_active_new(void)
{
	return calloc(1, sizeof(struct ew_active_set));
}

void ew_active_free(struct ew_active_set *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n; i++)
		free(s->v[i].key);
	free(s);
}

/* O(n) per finding record: findings are rare, and n is at most EW_ACTIVE_MAX. */
static struct active *find(struct ew_active_set *s, const char *key, size_t klen)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->v[i].klen == klen && !memcmp(s->v[i].key, key, klen))
			return &s->v[i];
	return NULL;
}

static struct active *make_room(struct ew_active_set *s)
{
	if (s->n < EW_ACTIVE_MAX)
		return &s->v[s->n++];
	for (uint32_t i = 0; i < s->n; i++) {
		if (!s->v[i].open) {
			free(s->v[i].key);
			memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(s->v[0]));
			return &s->v[s->n - 1];
		}
	}
	return NULL;
}

void ew_active_note(struct ew_active_set *s, const struct ew_finding *f,
		    const struct ew_identity *id)
{
	const char *rule = ew_rule_name(f->rule);
	const char *wl = id ? (id->workload[0] ? id->workload : id->key) : "";
	const char *ident = id && f->scope == EW_SCOPE_IDENTITY ? id->key : "";
	size_t lr = strlen(rule), lw = strlen(wl), li = strlen(ident);
	size_t klen = lr + lw + li + 3;
	char *key;
	struct active *a;

	if (f->rule == EW_RULE_STABLE)
		return;
	key = malloc(klen);
	if (!key) {
		s->dropped++;
		return;
	}
	memcpy(key, rule, lr + 1);
	memcpy(key + lr + 1, wl, lw + 1);
	memcpy(key + lr + lw + 2, ident, li + 1);
	a = find(s, key, klen);
	if (a) {
		free(key);
	} else {
		if (f->resolved) { /* a resolution of an episode not seen open: nothing to show */
			free(key);
			return;
		}
		a = make_room(s);
		if (!a) {
			free(key);
			s->dropped++;
			return;
		}
		*a = (struct active){.key = key, .klen = klen, .rule = f->rule};
		a->wl = a->key + lr + 1;
		a->ident = a->wl + lw + 1;
	}
	/* A resolution keeps the severity its finding fired with: the series stays the same. */
	if (!f->resolved)
		a->sev = f->severity;
	a->open = !f->resolved;
}

bool ew_active_open(const struct ew_active_set *s, const char *workload)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->v[i].open && !strcmp(s->v[i].wl, workload))
			return true;
	return false;
}

void ew_active_render(const struct ew_active_set *s, struct ew_buf *b)
{
	const char *name = "exitwatch_finding_active";

	ew_prom_header(b, name, "gauge",
		       "1 while a finding is open, 0 after its resolution; identity is empty for "
		       "workload-scoped rules.");
	for (uint32_t i = 0; i < s->n; i++) {
		const struct active *a = &s->v[i];

		ew_prom_sample(b, name,
			       (const char *[]){"rule", ew_rule_name(a->rule), "severity",
						ew_severity_name(a->sev), "workload", a->wl,
						"identity", a->ident, NULL},
			       a->open);
	}
	ew_prom_metric(b, "exitwatch_finding_active_dropped_total", "counter",
		       "Findings not shown in exitwatch_finding_active: every series was open.",
		       s->dropped);
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Counters and histograms over the records the agent emits, rendered as the Prometheus text
 * exposition format 0.0.4 (written by exposition.c). Pure: everything comes from the records and
 * the agent status.
 *
 * Label sets known in advance are always present with 0 (every rule with every severity, and for
 * every workload seen its starts, failed starts and watched exit codes: workloads.c), so that
 * increase() and rate() see a series' first event: a series that appears at 1 looks like no
 * increase at all.
 *
 * With container_labels, exitwatch_container_exits_by_name_total has one series per
 * (namespace, pod, container, class). At most EW_METRICS_MAX_NAMED of those are kept; every
 * later label set, and any that could not be allocated, is counted under
 * namespace="_other_",pod="_other_",container="_other_" with its class, so the total stays
 * exact and the series count stays bounded. Pod names change with every rollout and Job: a
 * series with no exit for EW_METRICS_WORKLOAD_IDLE_NS is forgotten (the overflow series too),
 * as a workload's are, so that the cap holds the containers of the last hour.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* metrics.h (through buf.h) first: detector.h names struct ew_buf without declaring it. */
#include "exitwatch/metrics/metrics.h"
#include "exitwatch/render/render_json.h"
#include "exitwatch/detect/detector.h"
#include "exitwatch/core/exit_class.h"
#include "exitwatch/util/map.h"
#include "exitwatch/util/util.h"
#include "metrics/metrics_int.h"

#define EW_METRICS_MAX_NAMED 1000
/* Workloads on one node are few; past this, per-workload series go under "_other_". */
#define EW_METRICS_MAX_WORKLOADS 200
/*
 * A workload with no start or exit for this long, and no finding open, is forgotten
 * (workloads.c), so that only workloads active within it count against the cap. An hour: as
 * long as the longest window the shipped alerts take increase() over (the start-up failure
 * rate's), so a workload's series outlive every window its last record is in. A node with more
 * than EW_METRICS_MAX_WORKLOADS workloads active within the hour still overflows, and
 * exitwatch_workloads_overflow_total says so (the ExitwatchWorkloadCap alert).
 */
#define EW_METRICS_WORKLOAD_IDLE_NS (3600 * EW_NSEC_PER_SEC)
#define EW_METRICS_OTHER	    "_other_"
#define EW_SINK_NAME_LEN	    256
#define EW_RT_NR		    (EW_RT_CGROUP + 1) /* enum ew_runtime ends with EW_RT_CGROUP */

static const struct bucket startup_buckets[] = {
	{100000000ULL, "0.1"},	  {250000000ULL, "0.25"},   {500000000ULL, "0.5"},
	{1000000000ULL, "1"},	  {2500000000ULL, "2.5"},   {5000000000ULL, "5"},
	{10000000000ULL, "10"},	  {30000000000ULL, "30"},   {60000000000ULL, "60"},
	{120000000000ULL, "120"}, {300000000000ULL, "300"},
};

static const struct bucket uptime_buckets[] = {
	{1000000000ULL, "1"},	      {5000000000ULL, "5"},	  {10000000000ULL, "10"},
	{30000000000ULL, "30"},	      {60000000000ULL, "60"},	  {300000000000ULL, "300"},
	{900000000000ULL, "900"},     {3600000000000ULL, "3600"}, {14400000000000ULL, "14400"},
	{86400000000000ULL, "86400"},
};

_Static_assert(ARRAY_SIZE(startup_buckets) <= EW_HIST_BUCKETS, "EW_HIST_BUCKETS too small");
_Static_assert(ARRAY_SIZE(uptime_buckets) <= EW_HIST_BUCKETS, "EW_HIST_BUCKETS too small");

struct stat_label {
	const char *kind;
	enum ew_stat stat;
};

static const struct stat_label kernel_events[] = {
	{"main_exec", EW_STAT_EXEC_MAIN},
	{"main_reexec", EW_STAT_EXEC_REEXEC},
	{"main_exit", EW_STAT_EXIT_MAIN},
	{"child_exit", EW_STAT_EXIT_CHILD},
	{"ready", EW_STAT_READY},
	{"fatal_signal", EW_STAT_SIGNALS},
	{"oom_victim", EW_STAT_OOM_VICTIMS},
	{"main_move", EW_STAT_MAIN_MOVES},
	{"start_failed", EW_STAT_START_FAILED},
};

static const struct stat_label ringbuf_drops[] = {
	{"exec", EW_STAT_DROP_EXEC},
	{"exit", EW_STAT_DROP_EXIT},
	{"ready", EW_STAT_DROP_READY},
};

struct sink_copy {
	char name[EW_SINK_NAME_LEN];
	bool connected;
	uint64_t queued, spooled_bytes, delivered, dropped;
};

/* One (namespace, pod, container, class) series; its key (the strings) follows the struct. */
struct named {
	const char *ns, *pod, *ctr;
	size_t klen;
	enum ew_exit_class cls;
	uint64_t n;
	uint64_t last_ns; /* agent uptime at its last exit: forgotten when idle */
};

struct ew_metrics {
	char *version;
	bool container_labels;

	bool rt_seen[EW_RT_NR];
	uint64_t restarts[EW_RT_NR], readies[EW_RT_NR];
	struct ew_wl_metrics *wl;     /* starts and exits by workload */
	struct ew_active_set *active; /* exitwatch_finding_active */
	struct hist startup, uptime;
	uint64_t children_clean, children_failed, children_signaled, children_oom_killed;
	uint64_t findings[EW_RULE__COUNT][EW_SEV__COUNT];
	uint64_t resolutions[EW_RULE__COUNT];

	/* The latest agent status: running totals and gauges, copied as they are. */
	uint64_t kstats[EW_STAT__MAX];
	uint64_t decode_errors, agent_uptime_ns, stale_swept;
	uint64_t log_watches, log_watch_refused, log_watch_overflows;
	uint32_t tracked, identities, active_findings, nsinks;
	uint32_t identities_asleep;
	uint64_t state_bytes, forgotten[3], forgotten_in_window;
	struct sink_copy sinks[EW_MAX_SINKS];

	/* container_labels: series in first-seen order (stable output), indexed by key. */
	struct named **named;
	size_t nnamed;
	struct ew_map *named_index;
	uint64_t named_other[EW_CLASS__COUNT];
	uint64_t named_other_last[EW_CLASS__COUNT];
};

struct ew_metrics *ew_metrics_new(const char *version, bool container_labels)
{
	struct ew_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->version = strdup(version ? version : "unknown");
	m->container_labels = container_labels;
	m->wl = ew_wlm_new(EW_METRICS_MAX_WORKLOADS, EW_METRICS_WORKLOAD_IDLE_NS);
	m->active = ew_active_new();
	if (!m->wl || !m->active) {
		ew_metrics_free(m);
		errno = ENOMEM;
		return NULL;
	}
	if (container_labels) {
		m->named = calloc(EW_METRICS_MAX_NAMED, sizeof(*m->named));
		m->named_index = ew_map_new();
	}
	if (!m->version || (container_labels && (!m->named || !m->named_index))) {
		ew_metrics_free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

void ew_metrics_free(struct ew_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nnamed; i++)
		free(m->named[i]);
	free(m->named);
	ew_map_free(m->named_index);
	ew_wlm_free(m->wl);
	ew_active_free(m->active);
	free(m->version);
	free(m);
}

static unsigned int runtime_of(const struct ew_identity *id)
{
	unsigned int rt = id ? (unsigned int)id->cg.runtime : EW_RT_NONE;

	return rt < EW_RT_NR ? rt : EW_RT_NONE;
}

static void hist_observe(struct hist *h, const struct bucket *b, size_t nb, uint64_t ns)
{
	for (size_t i = 0; i < nb; i++) {
		if (ns <= b[i].le_ns) {
			h->counts[i]++;
			break;
		}
	}
	h->count++;
	h->sum_s += ns / EW_NSEC_PER_SEC;
	h->sum_ns += ns % EW_NSEC_PER_SEC;
	if (h->sum_ns >= EW_NSEC_PER_SEC) {
		h->sum_s++;
		h->sum_ns -= EW_NSEC_PER_SEC;
	}
}

static void named_count(struct ew_metrics *m, const struct ew_identity *id, enum ew_exit_class cls)
{
	const char *ns = id ? id->meta.pod_namespace : "";
	const char *pod = id ? id->meta.pod_name : "";
	const char *ctr = id ? (id->meta.name[0] ? id->meta.name : id->display) : "";
	size_t lns = strlen(ns), lpod = strlen(pod), lctr = strlen(ctr);
	char key[3 * EW_NAME_LEN + 4];
	size_t klen = lns + lpod + lctr + 4;
	struct named *e;

	if ((unsigned int)cls >= EW_CLASS__COUNT)
		return;
	/* A container that names itself like the overflow series must not duplicate it. */
	if (!strcmp(ns, EW_METRICS_OTHER) && !strcmp(pod, EW_METRICS_OTHER) &&
	    !strcmp(ctr, EW_METRICS_OTHER))
		goto other;
	if (klen > sizeof(key))
		goto other;
	memcpy(key, ns, lns + 1);
	memcpy(key + lns + 1, pod, lpod + 1);
	memcpy(key + lns + lpod + 2, ctr, lctr + 1);
	key[klen - 1] = (char)cls;
	e = ew_map_get(m->named_index, key, klen);
	if (e) {
		e->n++;
		e->last_ns = m->agent_uptime_ns;
		return;
	}
	if (m->nnamed >= EW_METRICS_MAX_NAMED)
		goto other;
	e = malloc(sizeof(*e) + klen);
	if (!e)
		goto other;
	memcpy(e + 1, key, klen);
	e->ns = (const char *)(e + 1);
	e->pod = e->ns + lns + 1;
	e->ctr = e->pod + lpod + 1;
	e->klen = klen;
	e->cls = cls;
	e->n = 1;
	e->last_ns = m->agent_uptime_ns;
	if (ew_map_put(m->named_index, key, klen, e) < 0) {
		free(e);
		goto other;
	}
	m->named[m->nnamed++] = e;
	return;
other:
	m->named_other[cls]++;
	m->named_other_last[cls] = m->agent_uptime_ns;
}

static bool named_idle(uint64_t now_ns, uint64_t last_ns)
{
	return now_ns >= last_ns && now_ns - last_ns >= EW_METRICS_WORKLOAD_IDLE_NS;
}

/* Drops the series idle for EW_METRICS_WORKLOAD_IDLE_NS; the rest keep their order. */
static void named_forget(struct ew_metrics *m, uint64_t now_ns)
{
	size_t kept = 0;

	for (size_t i = 0; i < m->nnamed; i++) {
		struct named *e = m->named[i];

		if (!named_idle(now_ns, e->last_ns)) {
			m->named[kept++] = e;
			continue;
		}
		ew_map_del(m->named_index, e->ns, e->klen);
		free(e);
	}
	m->nnamed = kept;
	for (unsigned int c = 0; c < EW_CLASS__COUNT; c++)
		if (m->named_other[c] && named_idle(now_ns, m->named_other_last[c]))
			m->named_other[c] = 0;
}

void ew_metrics_record(struct ew_metrics *m, const struct ew_record *r)
{
	const struct ew_event *ev = r->ev;
	const struct ew_finding *f = r->finding;
	unsigned int rt = runtime_of(r->id);

	switch (r->type) {
	case EW_REC_START:
		m->rt_seen[rt] = true;
		ew_wlm_start(m->wl, r->id, !(ev && ev->seeded));
		if (ev && ev->seeded)
			break;
		if (r->startup && r->startup->restarts > 0)
			m->restarts[rt]++;
		break;
	case EW_REC_READY:
		m->rt_seen[rt] = true;
		if (!ev || ev->seeded)
			break;
		m->readies[rt]++;
		hist_observe(&m->startup, startup_buckets, ARRAY_SIZE(startup_buckets),
			     ev->startup_ns);
		break;
	case EW_REC_EXIT:
		m->rt_seen[rt] = true;
		/* A failed start: one exitwatch saw begin, ending before it succeeded, not 0. */
		ew_wlm_exit(m->wl, r->id, r->cls, ev ? ev->status.code : 0,
			    ev ? ev->status.signal : 0,
			    r->startup && r->startup->known && !r->startup->succeeded);
		if (ev) {
			hist_observe(&m->uptime, uptime_buckets, ARRAY_SIZE(uptime_buckets),
				     ev->uptime_ns);
			m->children_clean += ev->children.clean;
			m->children_failed += ev->children.failed;
			m->children_signaled += ev->children.signaled;
			m->children_oom_killed += ev->children.oom_killed;
		}
		if (m->container_labels)
			named_count(m, r->id, r->cls);
		break;
	case EW_REC_FINDING:
		if (f && (unsigned int)f->rule < EW_RULE__COUNT &&
		    (unsigned int)f->severity < EW_SEV__COUNT)
			m->findings[f->rule][f->severity]++;
		if (f)
			ew_active_note(m->active, f, r->id);
		break;
	case EW_REC_RESOLVED:
		if (f && (unsigned int)f->rule < EW_RULE__COUNT)
			m->resolutions[f->rule]++;
		if (f)
			ew_active_note(m->active, f, r->id);
		break;
	case EW_REC_AGENT:
		if (r->agent)
			ew_metrics_agent(m, r->agent);
		break;
	}
}

void ew_metrics_finding_open(struct ew_metrics *m, int rule, enum ew_severity sev, int scope,
			     const struct ew_identity *id)
{
	struct ew_finding f = {
		.rule = (enum ew_rule)rule, .severity = sev, .scope = (enum ew_scope)scope};

	if ((unsigned int)rule < EW_RULE__COUNT && id)
		ew_active_note(m->active, &f, id);
}

int ew_metrics_watch_exit(struct ew_metrics *m, enum ew_exit_class cls, int code)
{
	return ew_wlm_watch(m->wl, cls, code);
}

static bool finding_open(const char *workload, void *ctx)
{
	return ew_active_open(ctx, workload);
}

void ew_metrics_agent(struct ew_metrics *m, const struct ew_agent_status *a)
{
	/* The agent's uptime is the clock workloads are forgotten by: monotonic, once a second. */
	ew_wlm_tick(m->wl, a->uptime_ns, finding_open, m->active);
	if (m->container_labels)
		named_forget(m, a->uptime_ns);
	memcpy(m->kstats, a->kstats, sizeof(m->kstats));
	m->decode_errors = a->decode_errors;
	m->stale_swept = a->stale_swept;
	m->log_watches = a->log_watches;
	m->log_watch_refused = a->log_watch_refused;
	m->log_watch_overflows = a->log_watch_overflows;
	m->agent_uptime_ns = a->uptime_ns;
	m->tracked = a->tracked;
	m->identities = a->identities;
	m->identities_asleep = a->identities_asleep;
	m->state_bytes = a->state_bytes;
	memcpy(m->forgotten, a->forgotten, sizeof(m->forgotten));
	m->forgotten_in_window = a->forgotten_in_window;
	m->active_findings = a->active_findings;
	m->nsinks = a->nsinks < EW_MAX_SINKS ? a->nsinks : EW_MAX_SINKS;
	for (uint32_t i = 0; i < m->nsinks; i++) {
		const struct ew_sink_status *s = &a->sinks[i];
		struct sink_copy *c = &m->sinks[i];

		ew_strlcpy(c->name, s->name ? s->name : "", sizeof(c->name));
		/* Two identical --output specs would be one series twice: Prometheus rejects that. */
		for (uint32_t j = 0; j < i; j++) {
			if (!strcmp(m->sinks[j].name, c->name)) {
				char suffix[16];
				size_t room;

				snprintf(suffix, sizeof(suffix), "#%u", i + 1);
				room = sizeof(c->name) - strlen(suffix) - 1;
				if (strlen(c->name) > room)
					c->name[room] = '\0';
				strcat(c->name, suffix);
				break;
			}
		}
		c->connected = s->connected;
		c->queued = s->queued;
		c->spooled_bytes = s->spooled_bytes;
		c->delivered = s->delivered;
		c->dropped = s->dropped;
	}
}

static void put_per_runtime(struct ew_buf *b, const struct ew_metrics *m, const char *name,
			    const char *help, const uint64_t *v)
{
	ew_prom_header(b, name, "counter", help);
	for (unsigned int rt = 0; rt < EW_RT_NR; rt++)
		if (m->rt_seen[rt])
			ew_prom_sample(b, name,
				       (const char *[]){"runtime", ew_runtime_name(rt), NULL},
				       v[rt]);
}

static void put_containers(struct ew_buf *b, const struct ew_metrics *m)
{
	const char *name;

	ew_wlm_render(m->wl, b);
	put_per_runtime(b, m, "exitwatch_container_restarts_total",
			"Container starts that were restarts of a known container.", m->restarts);
	put_per_runtime(b, m, "exitwatch_container_ready_total",
			"Containers that listen()ed after a start exitwatch saw.", m->readies);

	ew_prom_hist(b, "exitwatch_startup_duration_seconds",
		     "Time from the main exec to the container's first listen().", &m->startup,
		     startup_buckets, ARRAY_SIZE(startup_buckets));
	ew_prom_hist(b, "exitwatch_container_uptime_seconds",
		     "How long container main processes ran before they exited.", &m->uptime,
		     uptime_buckets, ARRAY_SIZE(uptime_buckets));

	name = "exitwatch_child_exits_total";
	ew_prom_header(b, name, "counter",
		       "Exits of containers' other processes, counted in the kernel, by result.");
	ew_prom_sample(b, name, (const char *[]){"result", "clean", NULL}, m->children_clean);
	ew_prom_sample(b, name, (const char *[]){"result", "failed", NULL}, m->children_failed);
	ew_prom_sample(b, name, (const char *[]){"result", "signaled", NULL}, m->children_signaled);
	/* Not a result of its own: OOM kills are in "signaled" too, so the results still add up. */
	ew_prom_metric(b, "exitwatch_child_oom_kills_total", "counter",
		       "Exits of containers' other processes that the OOM killer chose.",
		       m->children_oom_killed);
}

static void put_findings(struct ew_buf *b, const struct ew_metrics *m)
{
	const char *name = "exitwatch_findings_total";

	ew_prom_header(b, name, "counter", "Findings fired, by rule and severity.");
	for (unsigned int r = 0; r < EW_RULE__COUNT; r++)
		for (unsigned int s = 0; s < EW_SEV__COUNT; s++)
			ew_prom_sample(b, name,
				       (const char *[]){"rule", ew_rule_name(r), "severity",
							ew_severity_name(s), NULL},
				       m->findings[r][s]);
	name = "exitwatch_resolutions_total";
	ew_prom_header(b, name, "counter", "Findings resolved, by rule.");
	for (unsigned int r = 0; r < EW_RULE__COUNT; r++)
		ew_prom_sample(b, name, (const char *[]){"rule", ew_rule_name(r), NULL},
			       m->resolutions[r]);
	ew_prom_metric(b, "exitwatch_active_findings", "gauge",
		       "Findings fired and not yet resolved.", m->active_findings);
	ew_active_render(m->active, b);
}

/* The detector's memory: what sleeps, what it weighs, what was forgotten and why. */
static void put_memory(struct ew_buf *b, const struct ew_metrics *m)
{
	static const char *const reasons[3] = {"idle", "limit", "budget"};
	const char *name = "exitwatch_identities_forgotten_total";

	ew_prom_metric(b, "exitwatch_identities_asleep", "gauge",
		       "Remembered identities asleep: exited with nothing open, packed.",
		       m->identities_asleep);
	ew_prom_metric(b, "exitwatch_detector_state_bytes", "gauge",
		       "The detector's state, estimated: what memory_budget bounds.",
		       m->state_bytes);
	ew_prom_header(
		b, name, "counter",
		"Identities forgotten: idle for idle_forget, beyond max_identities, or beyond "
		"memory_budget.");
	for (int i = 0; i < 3; i++)
		ew_prom_sample(b, name, (const char *[]){"reason", reasons[i], NULL},
			       m->forgotten[i]);
	ew_prom_metric(
		b, "exitwatch_identities_forgotten_in_window_total", "counter",
		"Of those forgotten beyond max_identities or memory_budget: active within the "
		"longest rule window, so that their restarts and loops start over.",
		m->forgotten_in_window);
}

static void put_agent(struct ew_buf *b, const struct ew_metrics *m)
{
	const char *name = "exitwatch_kernel_events_total";

	ew_prom_header(b, name, "counter", "Events the BPF programs counted, by kind.");
	for (size_t i = 0; i < ARRAY_SIZE(kernel_events); i++)
		ew_prom_sample(b, name, (const char *[]){"kind", kernel_events[i].kind, NULL},
			       m->kstats[kernel_events[i].stat]);
	name = "exitwatch_ringbuf_drops_total";
	ew_prom_header(b, name, "counter", "Kernel records lost because the ring buffer was full.");
	for (size_t i = 0; i < ARRAY_SIZE(ringbuf_drops); i++)
		ew_prom_sample(b, name, (const char *[]){"kind", ringbuf_drops[i].kind, NULL},
			       m->kstats[ringbuf_drops[i].stat]);
	ew_prom_metric(b, "exitwatch_map_full_total", "counter",
		       "Container main processes not tracked because a kernel map was full.",
		       m->kstats[EW_STAT_MAP_FULL]);
	ew_prom_metric(b, "exitwatch_stderr_faults_total", "counter",
		       "Stderr writes whose bytes could not be read from user memory.",
		       m->kstats[EW_STAT_TAIL_FAULT]);
	ew_prom_metric(b, "exitwatch_stderr_map_full_total", "counter",
		       "Containers whose stderr was not captured because the stderr map was full.",
		       m->kstats[EW_STAT_TAIL_FULL]);
	ew_prom_metric(b, "exitwatch_decode_errors_total", "counter",
		       "Kernel records rejected by the decoder.", m->decode_errors);
	ew_prom_metric(b, "exitwatch_stale_swept_total", "counter",
		       "Kernel map entries of main processes gone without a seen exit, deleted by "
		       "the sweep.",
		       m->stale_swept);
	ew_prom_metric(b, "exitwatch_log_watches", "gauge",
		       "Running containers whose runtime log file inotify watches.",
		       m->log_watches);
	ew_prom_metric(
		b, "exitwatch_log_watch_refused_total", "counter",
		"Container log files that could not be watched (inotify limits): their exits "
		"wait for the file to stop growing.",
		m->log_watch_refused);
	ew_prom_metric(b, "exitwatch_log_watch_overflows_total", "counter",
		       "Overflows of the log watch's inotify queue (fs.inotify.max_queued_events).",
		       m->log_watch_overflows);
	ew_prom_metric(b, "exitwatch_containers_tracked", "gauge",
		       "Cgroups with a live main process in the kernel map.", m->tracked);
	ew_prom_metric(b, "exitwatch_identities", "gauge",
		       "Container identities the detector remembers.", m->identities);
	put_memory(b, m);
}

static void put_sinks(struct ew_buf *b, const struct ew_metrics *m)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} fields[] = {
		{"exitwatch_sink_queue_lines", "gauge", "Lines queued in memory, by output.",
		 offsetof(struct sink_copy, queued)},
		{"exitwatch_sink_spooled_bytes", "gauge", "Bytes in the on-disk spool, by output.",
		 offsetof(struct sink_copy, spooled_bytes)},
		{"exitwatch_sink_dropped_lines_total", "counter",
		 "Lines lost (spool full or write error), by output.",
		 offsetof(struct sink_copy, dropped)},
		{"exitwatch_sink_delivered_lines_total", "counter", "Lines written, by output.",
		 offsetof(struct sink_copy, delivered)},
	};

	for (size_t f = 0; f < ARRAY_SIZE(fields); f++) {
		ew_prom_header(b, fields[f].name, fields[f].type, fields[f].help);
		for (uint32_t i = 0; i < m->nsinks; i++) {
			uint64_t v;

			memcpy(&v, (const char *)&m->sinks[i] + fields[f].off, sizeof(v));
			ew_prom_sample(b, fields[f].name,
				       (const char *[]){"sink", m->sinks[i].name, NULL}, v);
		}
	}
	ew_prom_header(b, "exitwatch_sink_connected", "gauge",
		       "1 when the output is connected (files and stdout: 0 while writes fail).");
	for (uint32_t i = 0; i < m->nsinks; i++)
		ew_prom_sample(b, "exitwatch_sink_connected",
			       (const char *[]){"sink", m->sinks[i].name, NULL},
			       m->sinks[i].connected);
}

static void put_named(struct ew_buf *b, const struct ew_metrics *m)
{
	const char *name = "exitwatch_container_exits_by_name_total";

	ew_prom_header(b, name, "counter",
		       "Container exits by name and class; at most 1000 series, the rest under "
		       "_other_.");
	for (size_t i = 0; i < m->nnamed; i++) {
		const struct named *e = m->named[i];

		ew_prom_sample(b, name,
			       (const char *[]){"namespace", e->ns, "pod", e->pod, "container",
						e->ctr, "class", ew_exit_class_name(e->cls), NULL},
			       e->n);
	}
	for (unsigned int c = 0; c < EW_CLASS__COUNT; c++)
		if (m->named_other[c])
			ew_prom_sample(b, name,
				       (const char *[]){"namespace", EW_METRICS_OTHER, "pod",
							EW_METRICS_OTHER, "container",
							EW_METRICS_OTHER, "class",
							ew_exit_class_name(c), NULL},
				       m->named_other[c]);
}

int ew_metrics_render(const struct ew_metrics *m, struct ew_buf *out)
{
	ew_prom_header(out, "exitwatch_build_info", "gauge", "exitwatch version, always 1.");
	ew_prom_sample(out, "exitwatch_build_info", (const char *[]){"version", m->version, NULL},
		       1);
	ew_prom_header(out, "exitwatch_uptime_seconds", "gauge",
		       "Seconds since the agent started.");
	ew_buf_puts(out, "exitwatch_uptime_seconds ");
	ew_prom_seconds(out, m->agent_uptime_ns / EW_NSEC_PER_SEC,
			m->agent_uptime_ns % EW_NSEC_PER_SEC);
	ew_buf_putc(out, '\n');
	put_containers(out, m);
	put_findings(out, m);
	put_agent(out, m);
	put_sinks(out, m);
	if (m->container_labels)
		put_named(out, m);
	return ew_buf_failed(out) ? -ENOMEM : 0;
}

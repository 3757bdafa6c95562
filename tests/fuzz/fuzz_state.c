// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ew_state_read() on any bytes: the state file survives agent versions, disks fill up in the
 * middle of a write, and a corrupt file must cost the detector's memory, never the agent. What
 * a read accepts is then run the way the agent runs it: every deadline it brought is
 * processed, and the state it writes reads back to the same state, both through the file and
 * through the detector's plain export and import, and it reads against a clock far behind it
 * (moved back). A resolver takes the identities' pods, and gives them back to the next write.
 */
#include <errno.h>

#include "exitwatch/detect/detector.h"
#include "exitwatch/identity/resolver.h"
#include "exitwatch/persist/state.h"
#include "exitwatch/util/buf.h"
#include "fuzz/fuzz.h"

/* Deadlines processed per input at most: enough for any seed, bounded for a timeout. */
#define EW_FUZZ_MAX_DEADLINES 4096

static void on_finding(void *ctx, const struct ew_finding *f)
{
	uint64_t *n = ctx;

	EW_FUZZ_CHECK((unsigned)f->rule < EW_RULE__COUNT, "rule %d", (int)f->rule);
	EW_FUZZ_CHECK((unsigned)f->severity < EW_SEV__COUNT, "severity %d", (int)f->severity);
	EW_FUZZ_CHECK(f->subject, "a finding without a subject");
	EW_FUZZ_CHECK(ew_subject_key(f->subject)[0], "a subject without a key");
	EW_FUZZ_TERMINATED(f->finding_id);
	EW_FUZZ_CHECK(f->nhist <= EW_HIST_MAX, "nhist %u", f->nhist);
	EW_FUZZ_CHECK(!f->tail_len || f->tail, "tail_len %u without a tail", f->tail_len);
	(*n)++;
}

static bool is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* An export fed straight into an import. */
struct copier {
	struct ew_detector_import *im;
	int r;
};

static void copy_workload(void *ctx, const struct ew_detector_workload *wl)
{
	struct copier *c = ctx;

	if (!c->r)
		c->r = ew_detector_import_workload(c->im, wl);
}

static void copy_ident(void *ctx, const struct ew_detector_ident *id)
{
	struct copier *c = ctx;

	if (!c->r)
		c->r = ew_detector_import_ident(c->im, id);
}

/*
 * What a read accepted is a state the detector's own import accepts too, whatever bytes it
 * holds (no JSON in between), and that copy writes the same file.
 */
static void check_copy(const struct ew_detector *d, const struct ew_detector_config *cfg,
		       const struct ew_resolver *res, const struct ew_buf *a)
{
	struct ew_detector_state st;
	struct ew_detector *d2 = ew_detector_new(cfg);
	struct copier c = {0};
	struct ew_buf b = EW_BUF_INIT;
	char err[256] = "";
	int r;

	EW_FUZZ_CHECK(d2, "ew_detector_new failed");
	ew_detector_export_state(d, &st);
	c.im = ew_detector_import_begin(d2, &st, UINT64_MAX, err, sizeof(err));
	EW_FUZZ_CHECK(c.im, "ew_detector_import_begin failed");
	r = ew_detector_export_workloads(d, copy_workload, &c);
	if (!r)
		r = ew_detector_export_idents(d, copy_ident, &c);
	r = ew_detector_import_end(c.im, d2, !r && !c.r);
	if (r == -ENOMEM || r == -ECANCELED) {
		ew_detector_free(d2);
		return;
	}
	EW_FUZZ_CHECK(r == 0, "own export did not import (%d: %s)", r, err);
	EW_FUZZ_CHECK(ew_state_write(d2, res, 1, 0, &b) == 0, "write of the copy failed");
	EW_FUZZ_CHECK(a->len == b.len && !memcmp(a->data, b.data, a->len),
		      "the copy writes another state:\n%s\n%s", a->data, b.data);
	ew_detector_free(d2);
	ew_buf_free(&b);
}

/*
 * A state the detector wrote reads back, and writes itself again byte for byte. Only when it
 * is ASCII: the writer turns each invalid UTF-8 byte a hostile file brought into U+FFFD (3
 * bytes), which may no longer fit the field it came from (an episode id then fails the next
 * read), so such a state is not a fixed point.
 */
static void check_round_trip(const struct ew_detector *d, const struct ew_detector_config *cfg,
			     const struct ew_resolver *res)
{
	struct ew_resolver_opts o = {.read_meta = false};
	struct ew_buf a = EW_BUF_INIT, b = EW_BUF_INIT;
	struct ew_resolver *res2;
	struct ew_detector *d2;
	char err[256] = "";
	int r;

	r = ew_state_write(d, res, 1, 0, &a);
	if (r == -ENOMEM) {
		ew_buf_free(&a);
		return;
	}
	EW_FUZZ_CHECK(r == 0, "write returned %d", r);
	check_copy(d, cfg, res, &a);
	if (!is_ascii(a.data, a.len)) {
		ew_buf_free(&a);
		return;
	}
	d2 = ew_detector_new(cfg);
	EW_FUZZ_CHECK(d2, "ew_detector_new failed");
	res2 = ew_resolver_new(&o);
	EW_FUZZ_CHECK(res2, "ew_resolver_new failed");
	r = ew_state_read(d2, res2, a.data, a.len, UINT64_MAX, NULL, err, sizeof(err));
	EW_FUZZ_CHECK(r == 0, "own state did not read back (%d: %s): %s", r, err, a.data);
	EW_FUZZ_CHECK(ew_detector_identities(d2) == ew_detector_identities(d),
		      "identities %u then %u", ew_detector_identities(d),
		      ew_detector_identities(d2));
	EW_FUZZ_CHECK(ew_detector_active(d2) == ew_detector_active(d), "active %u then %u",
		      ew_detector_active(d), ew_detector_active(d2));
	EW_FUZZ_CHECK(ew_state_write(d2, res2, 1, 0, &b) == 0, "second write failed");
	EW_FUZZ_CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len),
		      "state changed across a read:\n%s\n%s", a.data, b.data);
	ew_detector_free(d2);
	ew_resolver_free(res2);
	ew_buf_free(&a);
	ew_buf_free(&b);
}

/*
 * What a read accepts at no clock it accepts against a clock far behind it (0: the state was
 * saved with the clock ahead by its whole time): every time moves back, down to 0 at most, the
 * same identities and episodes, and the deadlines that gives run in order too.
 */
static void check_clock_behind(const struct ew_detector *d, const struct ew_detector_config *cfg,
			       const char *json, size_t size)
{
	struct ew_detector *d2 = ew_detector_new(cfg);
	struct ew_detector_state st, st2;
	uint64_t shifted = 0, findings = 0;
	char err[256] = "";
	int r;

	EW_FUZZ_CHECK(d2, "ew_detector_new failed");
	r = ew_state_read(d2, NULL, json, size, 0, &shifted, err, sizeof(err));
	if (r == -ENOMEM) {
		ew_detector_free(d2);
		return;
	}
	EW_FUZZ_CHECK(r == 0, "read at clock 0 failed (%d: %s)", r, err);
	ew_detector_export_state(d, &st);
	ew_detector_export_state(d2, &st2);
	EW_FUZZ_CHECK(shifted == (st.now_ns > EW_DETECTOR_CLOCK_SLACK_NS ? st.now_ns : 0),
		      "shifted %llu for a state at %llu", (unsigned long long)shifted,
		      (unsigned long long)st.now_ns);
	EW_FUZZ_CHECK(st2.now_ns == st.now_ns - shifted, "now %llu after a shift of %llu",
		      (unsigned long long)st2.now_ns, (unsigned long long)shifted);
	EW_FUZZ_CHECK(ew_detector_identities(d2) == ew_detector_identities(d) &&
			      ew_detector_active(d2) == ew_detector_active(d),
		      "moved back, another state");
	for (int i = 0; i < EW_FUZZ_MAX_DEADLINES; i++) {
		uint64_t at = ew_detector_next_deadline(d2);

		if (at == UINT64_MAX)
			break;
		ew_detector_advance(d2, at, on_finding, &findings);
	}
	ew_detector_free(d2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ew_resolver_opts o = {.read_meta = false};
	struct ew_detector_config cfg;
	struct ew_resolver *res;
	struct ew_detector *d;
	char err[256], *json;
	uint64_t findings = 0;
	int r;

	json = ew_fuzz_dup(data, size);
	if (!json)
		return 0;
	ew_detector_config_default(&cfg);
	d = ew_detector_new(&cfg);
	EW_FUZZ_CHECK(d, "ew_detector_new failed");
	res = ew_resolver_new(&o);
	EW_FUZZ_CHECK(res, "ew_resolver_new failed");
	err[0] = '\0';
	r = ew_state_read(d, res, json, size, UINT64_MAX, NULL, err, sizeof(err));
	EW_FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "returned %d", r);
	EW_FUZZ_TERMINATED(err);
	if (r < 0) {
		EW_FUZZ_CHECK(r == -ENOMEM || err[0], "an error without a message");
		EW_FUZZ_CHECK(ew_detector_identities(d) == 0 && ew_detector_active(d) == 0 &&
				      ew_detector_next_deadline(d) == UINT64_MAX,
			      "a failed read left state behind");
	} else {
		EW_FUZZ_CHECK(ew_resolver_count(res) == 0, "a state file cached a container");
		check_round_trip(d, &cfg, res);
		check_clock_behind(d, &cfg, json, size);
		/* The agent's loop: every deadline in time order, each one done when passed. */
		for (int i = 0; i < EW_FUZZ_MAX_DEADLINES; i++) {
			uint64_t at = ew_detector_next_deadline(d);

			if (at == UINT64_MAX)
				break;
			ew_detector_advance(d, at, on_finding, &findings);
			EW_FUZZ_CHECK(ew_detector_next_deadline(d) > at,
				      "deadline %llu still pending after advancing to it",
				      (unsigned long long)at);
		}
	}
	ew_detector_free(d);
	ew_resolver_free(res);
	free(json);
	return 0;
}

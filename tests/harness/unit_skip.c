// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The skip rule of every test binary (tests/harness/unit.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/unit.h"

#define WHY_MAX 512

bool ew_t_ci(void)
{
	const char *ci = getenv("CI");

	return ci && !strcmp(ci, "true");
}

/* Appends "<kind> <binary>: <why>" to $EW_SKIP_LOG, which tests/run-integration.sh lists at the
 * end of the run: a skip is said where it happens and again in the summary. */
static void log_skip(const char *kind, const char *why)
{
	const char *path = getenv("EW_SKIP_LOG");
	FILE *f;

	if (!kind || !path || !*path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "%s %s: %s\n", kind, program_invocation_name, why);
	fclose(f);
}

/* Called with the reason formatted: fail_msg() and skip() jump out, past no va_end(). */
static void not_here(const char *kind, const char *why)
{
	if (ew_t_ci())
		fail_msg("CI=true but %s: this test must run in CI", why);
	print_message("skipped: %s\n", why);
	log_skip(kind, why);
	skip();
}

static void vneed(const char *kind, const char *fmt, va_list ap)
{
	char why[WHY_MAX];

	vsnprintf(why, sizeof(why), fmt, ap);
	not_here(kind, why);
}

void ew_t_need(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	va_start(ap, fmt);
	vneed(NULL, fmt, ap);
	va_end(ap);
}

void ew_t_run_elsewhere(const char *fmt, ...)
{
	char what[WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	printf("not run here: %s\n", what);
	log_skip("vmtest", what);
}

void ew_t_need_logged(const char *kind, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	va_start(ap, fmt);
	vneed(kind, fmt, ap);
	va_end(ap);
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Hostile names: a container main process chooses its argv[0], its comm (prctl(PR_SET_NAME))
 * and, through a symlink, the file name it execs; its runtime chooses the cgroup name. Each of
 * them holds quotes, backslashes, newlines, ANSI escapes, invalid UTF-8 or bytes followed by a
 * forged record. Every line exitwatch prints must still be one JSON object for three parsers
 * (json-c strict, jq, Python's json), no forged record may appear, and each string must decode
 * to the bytes given: as they are where they are valid UTF-8, U+FFFD where they are not (one
 * per maximal ill-formed subpart, as Python's "replace" decoder does). Needs root.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/harness.h"

#define FFFD "\xef\xbf\xbd" /* U+FFFD REPLACEMENT CHARACTER in UTF-8 */
#define A25  "aaaaaaaaaaaaaaaaaaaaaaaaa"
#define A125 A25 A25 A25 A25 A25

/* What the kernel keeps: argv[0] and the exec'd path in EW_PATH_LEN (128) with the NUL; comm in
 * TASK_COMM_LEN (16) with the NUL. */
#define ARGV0_SEEN 127
#define COMM_SEEN  15

static const struct hostile_case {
	const char *what;
	const char *leaf;      /* cgroup name under the test's base (no '/', '\n' or '\'') */
	const char *leaf_want; /* what container.cgroup ends with, decoded */
	const char *argv0;
	const char *argv0_want;
	const char *comm; /* set with prctl() after exec */
	const char *comm_want;
	const char *exe; /* exec through a symlink of this name, or NULL */
	const char *exe_want;
	int code;
} cases[] = {
	{
		"forged record",
		"/h0-\"}{\"event\":\"forged\"}",
		"/h0-\"}{\"event\":\"forged\"}",
		"\"}\n{\"event\":\"forged\",\"severity\":\"CRITICAL\"}\n",
		"\"}\n{\"event\":\"forged\",\"severity\":\"CRITICAL\"}\n",
		"\"}\n{\"event\":1}",
		"\"}\n{\"event\":1}",
		"\"}\n{\"event\":\"forged\"}",
		"\"}\n{\"event\":\"forged\"}",
		3,
	},
	{
		"escapes",
		"/h1-\\esc\x1b[1m\x7f",
		"/h1-\\esc\x1b[1m\x7f",
		"back\\slash \\\" \x1b[31mred\x1b[0m \x1b]0;title\x07 tab\tcr\r\x01\x7f\\",
		"back\\slash \\\" \x1b[31mred\x1b[0m \x1b]0;title\x07 tab\tcr\r\x01\x7f\\",
		"\x1b[2J\\\"\t\r\x01\x7f",
		"\x1b[2J\\\"\t\r\x01\x7f",
		NULL,
		NULL,
		1,
	},
	{
		"invalid UTF-8",
		"/h2-\xff\xfe\xc0",
		"/h2-" FFFD FFFD FFFD,
		"bad \xff\xfe|\xc0\x80|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82 end",
		"bad " FFFD FFFD "|" FFFD FFFD "|" FFFD FFFD FFFD "|" FFFD FFFD FFFD FFFD "|" FFFD
		" end",
		"\xff\xc3(\xe2\x82\xac",
		FFFD FFFD "(\xe2\x82\xac",
		"x\xf0\x9f\x98\xff",
		"x" FFFD FFFD,
		2,
	},
	{
		"valid UTF-8",
		"/h3-\xe6\x97\xa5\xe6\x9c\xac",
		"/h3-\xe6\x97\xa5\xe6\x9c\xac",
		"h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 "
		"line\xe2\x80\xa8sep",
		"h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 "
		"line\xe2\x80\xa8sep",
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe2\x9c\x93",
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe2\x9c\x93",
		NULL,
		NULL,
		4,
	},
	{
		/* The kernel cuts both in the middle of a euro sign. */
		"cut inside a character",
		"/h4",
		"/h4",
		A125 "\xe2\x82\xac",
		A125 FFFD,
		"abcdefghijklm\xe2\x82\xac",
		"abcdefghijklm" FFFD,
		NULL,
		NULL,
		5,
	},
};

static int setup(void **state)
{
	return ew_h_fixture_setup(state, "hostile");
}

static int teardown(void **state)
{
	return ew_h_fixture_teardown(state);
}

/*
 * ew_h_spawn_in() execs argv[0] itself; here the path and argv[0] differ, so this is the same
 * runc-like start (join the cgroup, exec; the parent stays outside) with both given.
 */
static pid_t spawn(const char *rel, const char *path, char *const argv[])
{
	char procs[4096];
	int gate[2];
	pid_t pid;
	char c;

	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", ew_h_cgroup_root(), rel);
	assert_int_equal(pipe2(gate, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(procs, O_WRONLY), nul = open("/dev/null", O_RDWR);

		close(gate[0]);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(120);
		close(fd);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execv(path, argv);
		_exit(127);
	}
	close(gate[1]);
	(void)!read(gate[0], &c, 1); /* EOF once the child has exec'd (or died) */
	close(gate[0]);
	return pid;
}

/* The string member at path is exactly want (length included: no NUL cuts it short). */
static void assert_member(json_object *o, const char *path, const char *want, const char *what)
{
	json_object *v = ew_h_get(o, path);
	const char *got;

	if (!v || !json_object_is_type(v, json_type_string))
		fail_msg("%s: no string %s in %s", what, path, json_object_to_json_string(o));
	got = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(want) || strcmp(got, want))
		fail_msg("%s: %s is '%s', expected '%s'", what, path, got, want);
}

static bool utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t len = c < 0x80		      ? 1
			     : c >= 0xc2 && c <= 0xdf ? 2
			     : c >= 0xe0 && c <= 0xef ? 3
			     : c >= 0xf0 && c <= 0xf4 ? 4
						      : 0;
		unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;

		if (!len || n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if (p[i + k] < (k == 1 ? lo : 0x80) || p[i + k] > (k == 1 ? hi : 0xbf))
				return false;
		}
		i += len;
	}
	return true;
}

static void hex(const char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", (unsigned char)s[i]);
	out[2 * n] = '\0';
}

/* jq and Python need to be there; outside CI their absence skips the test. */
static void require_tool(const char *check, const char *what)
{
	char why[128];

	snprintf(why, sizeof(why), "%s is missing (scripts/deps.sh test)", what);
	ew_h_need(ew_h_sh("%s >/dev/null 2>&1", check) == 0, why);
}

/*
 * Python's json (strict: no NaN, no control byte in a string, no duplicate member) on every
 * line, and its own UTF-8 decoder as the oracle for each case: the exit record of cgroup
 * ...LEAF_HEX has process.argv0 == bytes.fromhex(ARGV0_HEX).decode("utf-8", "replace"), and so
 * on for comm and the exec'd file name.
 */
static const char python_check[] =
	"import json, sys\n"
	"def const(c): raise ValueError('not JSON: ' + c)\n"
	"def pairs(kv):\n"
	"    keys = [k for k, _ in kv]\n"
	"    if len(keys) != len(set(keys)): raise ValueError('duplicate member')\n"
	"    return dict(kv)\n"
	"recs = []\n"
	"for raw in open(sys.argv[1], 'rb').read().split(b'\\n')[:-1]:\n"
	"    o = json.loads(raw.decode('utf-8'), parse_constant=const, object_pairs_hook=pairs)\n"
	"    assert isinstance(o, dict), raw\n"
	"    assert o['event'] != 'forged', raw\n"
	"    recs.append(o)\n"
	"dec = lambda h: bytes.fromhex(h).decode('utf-8', 'replace')\n"
	"for spec in sys.argv[2:]:\n"
	"    leaf, argv0, comm, exe = spec.split(':')\n"
	"    ex = [o for o in recs if o['event'] == 'container_exit' and\n"
	"          o['container']['cgroup'].endswith(dec(leaf))]\n"
	"    assert len(ex) == 1, (dec(leaf), len(ex))\n"
	"    p = ex[0]['process']\n"
	"    assert p['argv0'] == dec(argv0), (p['argv0'], dec(argv0))\n"
	"    assert p['comm'] == dec(comm), (p['comm'], dec(comm))\n"
	"    assert not exe or p['filename'].endswith('/' + dec(exe)), (p['filename'], dec(exe))\n"
	"print('python: %d records, %d cases' % (len(recs), len(sys.argv) - 2))\n";

static void check_other_parsers(struct ew_h_fixture *f)
{
	char out[128], script[128], args[8192] = "", *a = args;
	FILE *fp;

	snprintf(out, sizeof(out), "%s/records.ndjson", f->s.dir);
	fp = fopen(out, "w");
	assert_non_null(fp);
	for (size_t i = 0; i < f->agent.nlines; i++)
		fprintf(fp, "%s\n", f->agent.raw[i]);
	fclose(fp);

	/* jq -e .: every value parses (jq alone would take two objects on one line, and
	 * invalid UTF-8); fromjson per line: each line is exactly one value, an object. */
	assert_int_equal(ew_h_sh("jq -e . '%s' >/dev/null", out), 0);
	assert_int_equal(ew_h_sh("jq -R -s -e 'split(\"\\n\") | map(select(length > 0) | "
				 "fromjson | type == \"object\") | all' '%s' >/dev/null",
				 out),
			 0);

	snprintf(script, sizeof(script), "%s/check.py", f->s.dir);
	fp = fopen(script, "w");
	assert_non_null(fp);
	fputs(python_check, fp);
	fclose(fp);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hostile_case *c = &cases[i];
		char h[4][512];

		hex(c->leaf, strlen(c->leaf), h[0]);
		hex(c->argv0, strnlen(c->argv0, ARGV0_SEEN), h[1]);
		hex(c->comm, strnlen(c->comm, COMM_SEEN), h[2]);
		hex(c->exe ? c->exe : "", c->exe ? strlen(c->exe) : 0, h[3]);
		a += sprintf(a, " %s:%s:%s:%s", h[0], h[1], h[2], h[3]);
	}
	assert_int_equal(ew_h_sh("/usr/bin/python3 '%s' '%s'%s", script, out, args), 0);
}

static void test_hostile_names(void **state)
{
	struct ew_h_fixture *f = *state;
	struct ew_h_want forged = {"forged", NULL};
	static const char *const events[] = {"agent",	       "container_start", "container_ready",
					     "container_exit", "finding",	  "resolved"};
	char code[8], rel[1024], exe[1024];

	ew_h_require_bpf();
	require_tool("command -v jq", "jq");
	require_tool("/usr/bin/python3 -c 'import json'", "/usr/bin/python3");
	ew_h_agent_start(&f->agent, (const char *const[]){"--agent-interval", "1h", NULL});

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hostile_case *c = &cases[i];
		char *argv[] = {(char *)c->argv0, "rename", (char *)c->comm, code, NULL};
		struct ew_h_want w = {NULL, c->leaf_want};
		const char *path = ew_h_workload();
		json_object *s, *e;
		pid_t pid;
		int st;

		snprintf(code, sizeof(code), "%d", c->code);
		snprintf(rel, sizeof(rel), "%s%s", f->s.base, c->leaf);
		assert_int_equal(ew_h_cgroup_make(rel), 0);
		if (c->exe) {
			snprintf(exe, sizeof(exe), "%s/%s", f->s.dir, c->exe);
			assert_int_equal(symlink(ew_h_workload(), exe), 0);
			path = exe;
		}
		pid = spawn(rel, path, argv);
		st = ew_h_wait_pid(pid, 5000);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), c->code);

		w.event = "container_start";
		s = ew_h_wait(&f->agent, ew_h_match, &w, NULL, 5000);
		if (!s)
			fail_msg("%s: no container_start record", c->what);
		w.event = "container_exit";
		e = ew_h_wait(&f->agent, ew_h_match, &w, NULL, 5000);
		if (!e)
			fail_msg("%s: no container_exit record", c->what);
		/* Quoted by json-c: the message holds the escapes, the log must not. */
		print_message("%s: %s\n", c->what,
			      json_object_to_json_string_ext(ew_h_get(e, "message"),
							     JSON_C_TO_STRING_PLAIN));

		assert_int_equal(ew_h_int(e, "exit.code", -1), c->code);
		assert_int_equal(ew_h_int(e, "process.pid", 0), pid);
		assert_member(s, "process.argv0", c->argv0_want, c->what);
		assert_member(e, "process.argv0", c->argv0_want, c->what);
		/* comm at the start is the exec'd file's, at the exit the renamed one. */
		assert_member(e, "process.comm", c->comm_want, c->what);
		if (c->exe) {
			char want[1024];

			snprintf(want, sizeof(want), "%s/%s", f->s.dir, c->exe_want);
			assert_member(s, "process.filename", want, c->what);
		}
	}
	assert_int_equal(ew_h_agent_stop(&f->agent), 0);

	/* json-c strict already parsed every line (the harness fails on one that does not). */
	assert_int_equal(ew_h_count(&f->agent, ew_h_match, &forged), 0);
	for (size_t i = 0; i < f->agent.nlines; i++) {
		const char *raw = f->agent.raw[i], *ev = ew_h_str(f->agent.lines[i], "event");
		bool known = false;

		for (const char *p = raw; *p; p++)
			if ((unsigned char)*p < 0x20)
				fail_msg("line %zu holds byte 0x%02x: %s", i, (unsigned char)*p,
					 raw);
		if (!utf8_valid((const unsigned char *)raw, strlen(raw)))
			fail_msg("line %zu is not valid UTF-8: %s", i, raw);
		for (size_t k = 0; ev && k < sizeof(events) / sizeof(events[0]); k++)
			known = known || !strcmp(ev, events[k]);
		if (!known)
			fail_msg("line %zu has event '%s': %s", i, ev ? ev : "(none)", raw);
	}
	check_other_parsers(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hostile_names, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf_hostile", tests, NULL, NULL);
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The runtime log module's parsers of one entry (runtime_log_int.h), pure and on hostile bytes:
 * RFC 3339 times, CRI lines, json-file lines (through json-c) and the local driver's protobuf
 * LogEntry. runtime_log.c finds the entries in the file and keeps the tail.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <json-c/json.h>

#include "exitwatch/identity/runtime_log.h"
#include "identity/runtime_log_int.h"

static bool rl_digits(const char *p, size_t n, unsigned *ret)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*ret = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t rl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned rl_month_days(unsigned y, unsigned m)
{
	static const unsigned char days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

int ew_runtime_log_parse_time(const char *s, size_t len, uint64_t *ret_ns)
{
	unsigned y, mo, d, h, mi, sec, oh, om;
	uint64_t frac = 0;
	int64_t secs, off = 0;
	size_t i = 19;

	if (len < 20 || !rl_digits(s, 4, &y) || s[4] != '-' || !rl_digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !rl_digits(s + 8, 2, &d) || s[10] != 'T' || !rl_digits(s + 11, 2, &h) ||
	    s[13] != ':' || !rl_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !rl_digits(s + 17, 2, &sec))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > rl_month_days(y, mo) || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	if (s[i] == '.') {
		size_t nd = 0;

		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
			if (nd == 9)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(s[i] - '0');
		}
		if (nd == 0)
			return -EINVAL;
		for (; nd < 9; nd++)
			frac *= 10;
	}
	if (i == len)
		return -EINVAL;
	if (s[i] == 'Z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		if (len - i < 6 || !rl_digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
		    !rl_digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		off = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else {
		return -EINVAL;
	}
	if (i != len)
		return -EINVAL;
	secs = rl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	/* Before the epoch, or past what uint64 ns hold (the year 2554): not a runtime's clock. */
	if (secs < 0 || (uint64_t)secs >= UINT64_MAX / 1000000000ULL)
		return -EINVAL;
	*ret_ns = (uint64_t)secs * 1000000000ULL + frac;
	return 0;
}

/*
 * "<time> <stream> <tag>[:<tag>...] <message>", as the kubelet's parseCRILog reads it: any
 * first tag but P is a full line, whose "\n" belongs to the stream.
 */
int ew_rl_parse_cri(const char *p, size_t n, struct ew_rl_entry *ret)
{
	const char *end = p + n, *sp1, *sp2, *sp3, *colon;
	bool partial;

	sp1 = memchr(p, ' ', n);
	if (!sp1 || ew_runtime_log_parse_time(p, (size_t)(sp1 - p), &ret->time_ns) < 0)
		return -EINVAL;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 - sp1 - 1 != 6 ||
	    (memcmp(sp1 + 1, "stderr", 6) && memcmp(sp1 + 1, "stdout", 6)))
		return -EINVAL;
	sp3 = memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1));
	if (!sp3)
		return -EINVAL;
	colon = memchr(sp2 + 1, ':', (size_t)(sp3 - sp2 - 1));
	if (!colon)
		colon = sp3;
	partial = colon - sp2 - 1 == 1 && sp2[1] == 'P';
	ret->is_stderr = sp1[4] == 'e';
	ret->data = sp3 + 1;
	ret->len = (size_t)(end - sp3 - 1);
	ret->newline = !partial;
	return 0;
}

static const char *rl_json_str(json_object *o, const char *key, size_t *len)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* {"log":"...","stream":"stderr","time":"..."}: log already holds its "\n", if it had one. */
int ew_rl_parse_json(json_tokener *tok, const char *p, size_t n, struct ew_rl_entry *ret,
		     json_object **ret_obj)
{
	const char *stream, *time;
	size_t stream_len, time_len;
	json_object *o;

	*ret_obj = NULL;
	if (n > INT_MAX)
		return -EINVAL;
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, p, (int)n);
	if (!o)
		return -EINVAL;
	if (json_tokener_get_parse_end(tok) != n || !json_object_is_type(o, json_type_object))
		goto bad;
	/* Docker's JSONLog has "log,omitempty": no "log" is an empty message. */
	ret->data = rl_json_str(o, "log", &ret->len);
	if (!ret->data && !json_object_object_get_ex(o, "log", NULL)) {
		ret->data = "";
		ret->len = 0;
	}
	stream = rl_json_str(o, "stream", &stream_len);
	time = rl_json_str(o, "time", &time_len);
	if (!ret->data || !stream || !time ||
	    ew_runtime_log_parse_time(time, time_len, &ret->time_ns) < 0)
		goto bad;
	if (stream_len != 6 || (memcmp(stream, "stderr", 6) && memcmp(stream, "stdout", 6)))
		goto bad;
	ret->is_stderr = stream[3] == 'e';
	ret->newline = false;
	*ret_obj = o;
	return 0;
bad:
	json_object_put(o);
	return -EINVAL;
}

static bool rl_varint(const unsigned char **p, const unsigned char *end, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		unsigned char b;

		if (*p == end)
			return false;
		b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ret = v;
			return true;
		}
	}
	return false;
}

struct rl_proto {
	const char *line;
	size_t line_len;
	uint64_t time_ns;
	bool has_source, is_stderr, partial, last;
};

/*
 * The subset of Docker's LogEntry (api/types/plugins/logdriver/entry.proto) that we need:
 * source = 1, time_nano = 2, line = 3, partial = 4, partial_log_metadata = 5 {last = 1}.
 * Other fields are skipped by wire type; groups and bad lengths fail. When is_meta, p is a
 * PartialLogEntryMetadata and only its "last" is kept (in ret->last).
 */
static bool rl_proto_parse(const char *buf, size_t len, bool is_meta, struct rl_proto *ret)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len, *data = NULL;

	while (p < end) {
		uint64_t key, v = 0, field;

		if (!rl_varint(&p, end, &key) || (field = key >> 3) == 0)
			return false;
		switch (key & 7) {
		case 0:
			if (!rl_varint(&p, end, &v))
				return false;
			break;
		case 1:
		case 5: {
			size_t w = (key & 7) == 1 ? 8 : 4;

			if ((size_t)(end - p) < w)
				return false;
			p += w;
			continue;
		}
		case 2:
			if (!rl_varint(&p, end, &v) || v > (uint64_t)(end - p))
				return false;
			data = p;
			p += v;
			break;
		default:
			return false;
		}
		if (is_meta) {
			if (field == 1 && (key & 7) == 0)
				ret->last = v != 0;
			continue;
		}
		switch (field) {
		case 1:
			if ((key & 7) != 2)
				return false;
			ret->has_source = true;
			ret->is_stderr = v == 6 && !memcmp(data, "stderr", 6);
			break;
		case 2:
			if ((key & 7) != 0)
				return false;
			/* An int64: a negative time is older than any since_ns. */
			ret->time_ns = (int64_t)v < 0 ? 0 : v;
			break;
		case 3:
			if ((key & 7) != 2)
				return false;
			ret->line = (const char *)data;
			ret->line_len = (size_t)v;
			break;
		case 4:
			if ((key & 7) != 0)
				return false;
			ret->partial = v != 0;
			break;
		case 5:
			if ((key & 7) != 2 ||
			    !rl_proto_parse((const char *)data, (size_t)v, true, ret))
				return false;
			break;
		}
	}
	return true;
}

int ew_rl_parse_local(const char *p, size_t n, struct ew_rl_entry *ret)
{
	struct rl_proto pe = {0};

	/* Docker always sets the source: an empty message is not one of its entries. */
	if (!rl_proto_parse(p, n, false, &pe) || !pe.has_source)
		return -EINVAL;
	ret->time_ns = pe.time_ns;
	ret->is_stderr = pe.is_stderr;
	ret->data = pe.line;
	ret->len = pe.line_len;
	/* The local driver stores lines without their "\n". */
	ret->newline = !pe.partial || pe.last;
	return 0;
}

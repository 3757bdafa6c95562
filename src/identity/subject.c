// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Packs an ew_identity (~4 KiB of fixed buffers) into one allocation holding only the bytes
 * its strings use, typically 200-400: the resolver and the detector keep one per container, and
 * 10,000 of them must fit in a few MiB.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "exitwatch/identity/identity.h"
#include "exitwatch/util/util.h"

enum subject_field {
	SF_CGROUP,
	SF_CONTAINER_ID,
	SF_POD_UID,
	SF_QOS,
	SF_UNIT,
	SF_NAME,
	SF_IMAGE,
	SF_POD_NAME,
	SF_POD_NAMESPACE,
	SF_META_POD_UID,
	SF_COMPOSE_PROJECT,
	SF_COMPOSE_SERVICE,
	SF_RESTART_POLICY,
	SF_KEY,
	SF_WORKLOAD,
	SF_DISPLAY,
	SF__COUNT
};

struct ew_subject {
	uint64_t cgroup_id;
	uint64_t rev;
	uint32_t refs; /* holders: ew_subject_ref() adds one, ew_subject_free() drops one */
	int32_t restart_count;
	uint8_t runtime;
	bool kubernetes;
	bool has_meta;
	bool sandbox;
	/* The non-empty strings' fields, in enum order: unpacking copies these and no other. */
	uint8_t nfull;
	uint8_t full[SF__COUNT];
	/* Offset of each NUL-terminated string in data, and the end of the last one: a string's
	 * length is known without a scan. */
	uint32_t off[SF__COUNT + 1];
	char data[];
};

/* Where each string of an ew_identity lives and how large its buffer is, in enum order. */
static const struct {
	size_t offset, size;
} fields[SF__COUNT] = {
#define F(m)                                                                          \
	{                                                                             \
		offsetof(struct ew_identity, m), sizeof(((struct ew_identity *)0)->m) \
	}
	[SF_CGROUP] = F(cgroup),
	[SF_CONTAINER_ID] = F(cg.container_id),
	[SF_POD_UID] = F(cg.pod_uid),
	[SF_QOS] = F(cg.qos),
	[SF_UNIT] = F(cg.unit),
	[SF_NAME] = F(meta.name),
	[SF_IMAGE] = F(meta.image),
	[SF_POD_NAME] = F(meta.pod_name),
	[SF_POD_NAMESPACE] = F(meta.pod_namespace),
	[SF_META_POD_UID] = F(meta.pod_uid),
	[SF_COMPOSE_PROJECT] = F(meta.compose_project),
	[SF_COMPOSE_SERVICE] = F(meta.compose_service),
	[SF_RESTART_POLICY] = F(meta.restart_policy),
	[SF_KEY] = F(key),
	[SF_WORKLOAD] = F(workload),
	[SF_DISPLAY] = F(display),
#undef F
};

/* Room for every string of an identity at once, NULs included. */
#define SUBJECT_DATA_MAX                                                             \
	(sizeof(((struct ew_identity *)0)->cgroup) + sizeof(struct ew_cgroup_info) + \
	 sizeof(struct ew_meta) + sizeof(((struct ew_identity *)0)->key) +           \
	 sizeof(((struct ew_identity *)0)->workload) + sizeof(((struct ew_identity *)0)->display))

/*
 * One pass over the strings into a buffer on the stack, then one allocation and one copy: most
 * of the 16 are empty for most runtimes (a bare cgroup, a Docker container without Compose),
 * and those cost a byte test and a store each, not a strlen() and a memcpy() call.
 */
struct ew_subject *ew_subject_pack(const struct ew_identity *id)
{
	struct ew_subject head = {.cgroup_id = id->cgroup_id,
				  .rev = id->rev,
				  .refs = 1,
				  .restart_count = id->meta.restart_count,
				  .runtime = (uint8_t)id->cg.runtime,
				  .kubernetes = id->cg.kubernetes,
				  .has_meta = id->has_meta,
				  .sandbox = id->meta.sandbox};
	char data[SUBJECT_DATA_MAX];
	struct ew_subject *s;
	size_t pos = 0;

	for (int i = 0; i < SF__COUNT; i++) {
		const char *f = (const char *)id + fields[i].offset;
		size_t n = f[0] ? strnlen(f, fields[i].size - 1) : 0;

		head.off[i] = (uint32_t)pos;
		if (n) {
			memcpy(data + pos, f, n);
			head.full[head.nfull++] = (uint8_t)i;
		}
		data[pos + n] = '\0';
		pos += n + 1;
	}
	head.off[SF__COUNT] = (uint32_t)pos;
	s = malloc(sizeof(*s) + pos);
	if (!s)
		return NULL;
	*s = head;
	memcpy(s->data, data, pos);
	return s;
}

/*
 * Every member is set and every string ends at its NUL: the bytes past it are left as they
 * were. Every exit unpacks one, and clearing the ~4.7 KiB first was most of unpack's work; the
 * empty strings are a store each, only the others are copied.
 */
void ew_subject_unpack(const struct ew_subject *s, struct ew_identity *id)
{
	ew_identity_clear(id);
	id->cgroup_id = s->cgroup_id;
	id->rev = s->rev;
	id->meta.restart_count = s->restart_count;
	id->cg.runtime = (enum ew_runtime)s->runtime;
	id->cg.kubernetes = s->kubernetes;
	id->has_meta = s->has_meta;
	id->meta.sandbox = s->sandbox;
	for (int k = 0; k < s->nfull; k++) {
		int i = s->full[k];
		size_t n = s->off[i + 1] - s->off[i];

		/* Packed from an identity's own buffers, so it fits them; the NUL comes along. */
		memcpy((char *)id + fields[i].offset, s->data + s->off[i], n);
	}
}

void ew_identity_clear(struct ew_identity *id)
{
	/* The members ew_subject_unpack() sets, with an empty subject's values. */
	id->packed = NULL;
	id->cgroup_id = 0;
	id->rev = 0;
	id->meta.restart_count = 0;
	id->cg.runtime = (enum ew_runtime)0;
	id->cg.kubernetes = false;
	id->has_meta = false;
	id->meta.sandbox = false;
	for (int i = 0; i < SF__COUNT; i++)
		((char *)id + fields[i].offset)[0] = '\0';
}

/*
 * Each string of id to its NUL and each member, against s: what unpacking s would give. A string
 * is as long as its packed copy (the NUL at n) and holds the same bytes; bytes past a NUL are
 * nobody's.
 */
bool ew_subject_same(const struct ew_subject *s, const struct ew_identity *id)
{
	if (s->cgroup_id != id->cgroup_id || s->restart_count != id->meta.restart_count ||
	    s->runtime != (uint8_t)id->cg.runtime || s->kubernetes != id->cg.kubernetes ||
	    s->has_meta != id->has_meta || s->sandbox != id->meta.sandbox)
		return false;
	for (int i = 0; i < SF__COUNT; i++) {
		const char *f = (const char *)id + fields[i].offset;
		size_t n = s->off[i + 1] - s->off[i] - 1;

		if (f[n] != '\0' || memcmp(f, s->data + s->off[i], n))
			return false;
	}
	return true;
}

const char *ew_subject_key(const struct ew_subject *s)
{
	return s->data + s->off[SF_KEY];
}

const char *ew_subject_workload(const struct ew_subject *s)
{
	return s->data + s->off[SF_WORKLOAD];
}

uint64_t ew_subject_cgroup_id(const struct ew_subject *s)
{
	return s->cgroup_id;
}

struct ew_subject *ew_subject_ref(struct ew_subject *s)
{
	if (s)
		s->refs++;
	return s;
}

void ew_subject_free(struct ew_subject *s)
{
	if (s && --s->refs == 0)
		free(s);
}

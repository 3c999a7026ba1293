/*
 * cache.h - the shared-memory policy cache (contract; the design essay,
 * byte layout and lock invariants open cache.c / shm.c).
 *
 * One file-backed MAP_SHARED mapping shared by every process of the host
 * MTA.  Readers take no lock; writers serialise with a lock a crashed
 * process cannot keep.  Everything read from the mapping is untrusted.
 * A handle is per process; after fork() the child's first call re-attaches
 * (the handle notices the pid change).  Not thread-safe: one handle per
 * thread.
 */
#ifndef MTASTS_CACHE_H
#define MTASTS_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain.h"
#include "txt.h"

enum cache_kind {
	CACHE_EMPTY = 0,	/* only lease / back-off state, no answer */
	CACHE_POLICY = 1,	/* a valid policy */
	CACHE_NEGATIVE = 2,	/* "no policy" answer, until expires */
};

struct cache_entry {
	char domain[DOMAIN_BUFSZ];	/* normalised */
	uint8_t kind;			/* enum cache_kind */
	uint8_t mode;			/* enum policy_mode (CACHE_POLICY) */
	uint32_t max_age;
	int64_t fetched;		/* when the policy was fetched */
	int64_t expires;		/* policy: fetched + max_age;
					 * negative: end of the negative TTL */
	int64_t txt_checked;		/* last time the TXT id was confirmed */
	char id[TXT_ID_MAX + 1];	/* TXT id of the cached policy */
	uint32_t fail_count;		/* consecutive failed refreshes */
	int64_t retry_after;		/* back-off: no fetch before this */
	int64_t lease_deadline;		/* fetch lease (0 = none) */
	int32_t lease_pid;
	uint32_t n_mx;
	uint32_t mx_len;
	char *mx;			/* blob as in policy.h; owned by the entry */
};

struct cache_stats {
	uint64_t slots, used, policies, negatives;
	uint64_t file_size;
	uint64_t hits, misses, evictions, corrupt_seen;	/* approximate */
};

struct cache;

#define CACHE_DEFAULT_SIZE (64u << 20)	/* bytes */

/* Open (creating 0600 when missing) the cache file at path, size bytes
 * (used only at creation; an existing file keeps its own).  Refuses a
 * symlink, a file not owned by the caller's euid, or one writable by group
 * or others (MT_EPERM, logged).  A header mismatch rebuilds the file
 * (logged as a security event).  MT_OK / MT_EPERM / MT_EIO / MT_ENOMEM. */
int cache_open(struct cache **out, const char *path, size_t size);
/* As cache_open; with CACHE_OPEN_NOCREATE a missing file is MT_ENOTFOUND
 * and nothing is created or rebuilt (inspection). */
#define CACHE_OPEN_NOCREATE 0x1
int cache_open_flags(struct cache **out, const char *path, size_t size,
		     unsigned flags);
void cache_close(struct cache *c);	/* accepts NULL */

/* Copy the entry for the normalised domain into *out (release with
 * cache_entry_clear).  MT_OK, MT_ENOTFOUND, MT_ECORRUPT (not found, but a
 * slot where it could be is torn or damaged: it may hide this domain's
 * entry, never a value that failed validation), MT_ENOMEM, MT_EIO (cannot
 * re-attach after fork). */
int cache_get(struct cache *c, const char *domain, struct cache_entry *out);
void cache_entry_clear(struct cache_entry *e);

/* Insert or replace the answer part of an entry (kind, mode, max_age,
 * fetched, expires, txt_checked, id, fail_count, retry_after, mx).  The
 * lease fields of an existing slot are kept.  Evicts when full (expired
 * first, then least recently used, an unexpired enforce policy last).
 * MT_OK, MT_ETOOBIG (mx blob over what a slot chain can hold), MT_EFULL,
 * MT_EIO, MT_EBUSY (writer lock not obtained in time). */
int cache_put(struct cache *c, const struct cache_entry *e);
int cache_delete(struct cache *c, const char *domain);
int cache_flush(struct cache *c);

/* Fetch lease: MT_OK when this process now holds it (deadline = absolute
 * time), MT_EBUSY when another live process holds an unexpired lease. */
int cache_lease(struct cache *c, const char *domain, int64_t now,
		int64_t deadline);
int cache_unlease(struct cache *c, const char *domain);

/* Calls fn for a copy of every valid entry; stops when fn returns != 0. */
int cache_foreach(struct cache *c,
		  int (*fn)(const struct cache_entry *e, void *arg), void *arg);
int cache_stats(struct cache *c, struct cache_stats *st);

#endif

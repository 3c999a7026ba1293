/*
 * cache.c - the shared-memory policy cache: one slot per domain in a file
 * every process of the MTA maps (shm.c owns the file; this file owns the
 * bytes).
 *
 * Design essay
 * ============
 *
 * Why.  Exim forks for every delivery.  A policy fetched in one process
 * must serve the next thousand, and must survive a restart: a policy lost
 * before its max_age is a window in which an attacker who strips the TXT
 * record downgrades mail to cleartext (RFC 8461 §10).  Lookups happen once
 * per recipient domain per delivery, so the hit path must cost well under
 * a microsecond and take no lock.  The one promise: an unexpired enforce
 * policy is never answered as "nothing cached" because of concurrency, a
 * crash, a full cache or damaged bytes.
 *
 * Byte layout (all integers host-endian; the header records the byte order
 * and every size so a foreign or older file is rebuilt, never guessed at):
 *
 *   0           struct cache_hdr   (256 bytes: magic, version, layout
 *                                  descriptor, hash key, statistics)
 *   256         struct cache_jrnl  (the write journal: one slot image)
 *   1024        nslots x struct cache_slot (512 bytes each)
 *   cmap_off    nchunks x uint32   (chunk owners: slot index + 1, 0 free;
 *                                  read by writers only)
 *   chunks_off  nchunks x 1 KiB    (the data area for large mx lists:
 *                                  each chunk an 8-byte header naming the
 *                                  next chunk, then 1016 data bytes)
 *
 * Offsets, never pointers: every address is base + an offset computed from
 * the validated descriptor.  The structs are static_assert'ed to have
 * exactly the sizes the descriptor records, with no padding.
 *
 * A slot holds the fixed fields of one domain (176 bytes), then in its
 * 336-byte data area the domain (cs_dlen bytes, no NUL) followed by the mx
 * blob when it fits.  A larger blob (a policy with many mx lines, up to
 * the 64 KiB body cap) takes a chain of chunks of the data area: the slot
 * names the first (cs_ext = first chunk + 1) and the count (cs_ext_n);
 * each chunk names the next.  Chains need no contiguous room, so the data
 * area never fragments.  A chain is immutable while a slot names it.  The
 * last CACHE_EXT_MAX free chunks are kept for updates of entries that
 * already have a chain, so a large policy can always be replaced by a new
 * one of its size, even when the file is full.
 *
 * Two checksums per slot: cs_fsum over the fixed fields (everything but
 * the sequence counter, the LRU stamp and cs_fsum itself) and cs_dsum over
 * the domain and the mx blob.  The fixed checksum tells a reader passing
 * over another domain's slot that its hash and state are real, so a
 * flipped byte in a state or hash is damage, never a silent miss.  The
 * data checksum is written only with the data: bookkeeping (an id
 * confirmation, a lease, a back-off) rewrites the fixed fields and cs_fsum
 * alone and never touches the policy's data.  A never-used slot is all
 * zero from byte 8 (pristine FREE); a FREE state in a slot that is not
 * pristine is damage.
 *
 * Hashing.  SipHash-2-4 of the normalised domain with a 128-bit key drawn
 * from getrandom() when the file is created, so a sender cannot choose
 * domain names that collide (hash flooding).  Open addressing, linear
 * probing over at most CACHE_PROBE_MAX slots from the home slot (128: at
 * the default size limit, 1 GiB, a million enforce policies fit without
 * a full window; with 64 a few were refused; the window is part of the
 * layout descriptor, so readers and writers always agree on it).  Slot
 * states: FREE (never used: ends a probe), TOMB (deleted: probing
 * continues, reusable), USED.  Invariant kept by writers: a domain has at
 * most one slot, in its probe window, before any FREE slot.
 *
 * Readers: a sequence lock per slot.  cs_seq is even when the slot is
 * stable, odd while a writer is inside.  A reader loads the sequence
 * (acquire), copies the slot and any extent into private memory, issues an
 * acquire fence and loads the sequence again; a change, or an odd value,
 * means a write is in progress.  A write in progress is NOT damage: the
 * reader spins a bounded number of times, then reads again under the
 * writer lock (bounded wait), where nobody can be writing.  Only what
 * fails validation with no write in progress is damage.  The copy is
 * checked as untrusted input: both checksums, every length against its
 * cap, kind and mode against their enums, the extent against the data
 * area, the mx blob NUL-terminated with the right pattern count.  The
 * copy, not the mapping, is what the caller gets.
 *
 * Damage and identity.  A damaged slot on a domain's probe path may hide
 * that domain's entry.  Its identity is taken from its hash when the fixed
 * checksum holds, else recovered from its domain bytes when they are a
 * valid name whose home window covers the slot.  A damaged slot known to
 * belong to another domain is passed over; one of this domain, or of
 * nobody knows whom, makes the answer "cannot tell" (MT_ECORRUPT): the
 * engine then fails closed for enforcement.  Writers never reuse a
 * damaged slot for another domain.  A damaged slot of a known domain is
 * turned into a CACHE_LOST entry for that domain (whatever it held is
 * unknown: treated as a possible enforce policy for up to a year, until a
 * policy is fetched again or the administrator deletes it).
 *
 * Writers serialise with shm_lock(), an OFD lock a dead process cannot
 * keep, waited for at most CACHE_LOCK_MS.  Every slot write goes through
 * the journal: the complete new slot image is written to the journal with
 * its checksum and armed, then the slot is written under its sequence
 * lock, then the journal is disarmed.  Whoever takes the lock next replays
 * an armed journal whose checksum holds (the writer died inside the slot)
 * or drops one that does not (it died inside the journal: the slot was not
 * touched).  A writer killed at any point therefore loses nothing.  Data
 * for an extent is written into newly allocated chunks before the journal
 * is armed; the old extent is freed only after the slot names the new
 * one.  A reader still copying the old one sees the sequence change and
 * retries.  Chunks leaked by a crash are reclaimed by a scan when none is
 * free.
 *
 * Each write re-reads the entry under the lock and changes what it owns
 * (cache.h): a process that read a stale copy can never write it back.
 *
 * Growth.  When a domain's probe window has no reusable slot, or the data
 * area is full, the file grows: a new file twice the size is built with
 * every entry of the old one (under the old file's lock), renamed over it,
 * and the old header is marked retired.  Up to max_size; at the limit an
 * expired entry, then a negative answer or a testing policy is evicted
 * (least recently used first), and an unexpired enforce policy, a live
 * lease or a lost entry never is: a new policy is then not cached
 * (MT_EFULL, logged).
 *
 * LRU: readers store a coarse time (seconds, 32 bits) into cs_lru with a
 * relaxed atomic store, only when it changed, outside both checksums.
 *
 * Recovery and rebuild.  A header that cannot be interpreted (magic,
 * version, byte order, sizes, descriptor checksum) means nothing in the
 * file can be located: it is rebuilt empty - a new file renamed over the
 * old one (shm.c) so nobody's mapping is truncated - and the event is
 * logged at error level as security-relevant.  A file shorter than its
 * header says (truncated) is rebuilt with every entry still inside the
 * file; entries whose slot or data was cut off become lost entries when
 * their name survives.  A longer file is used as its header describes.
 * Under the old file's lock the old header is marked retired; every
 * operation checks that flag and re-attaches, and a writer re-checks it
 * after taking the lock.  Whether the name points to a new file is decided
 * by inode (shm_is_current).  About once a second a handle also checks
 * that its file was neither replaced nor truncated under it (a truncated
 * mapping raises SIGBUS on access: docs/engine.md tells how to reset the
 * cache safely).  A handle notices fork() (pthread_atfork bumps a
 * generation) and the child re-opens the file: its own descriptor, its
 * own OFD lock.
 *
 * What it trusts: nothing in the mapping.  It trusts its caller to pass a
 * normalised domain (domain.h).
 */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "policy.h"
#include "shm.h"
#include "status.h"

#define CACHE_MAGIC "MTSTSC2" /* 8 bytes with the NUL */
#define CACHE_VERSION 2u
#define CACHE_ENDIAN 0x01020304u
#define CACHE_HDR_SIZE 256u
#define CACHE_JRNL_OFF CACHE_HDR_SIZE
#define CACHE_SLOTS_OFF 1024u
#define CACHE_SLOT_SIZE 512u
#define CACHE_SLOT_FIXED 176u
#define CACHE_SLOT_DATA (CACHE_SLOT_SIZE - CACHE_SLOT_FIXED)
#define CACHE_CHUNK 1024u
#define CACHE_CHUNK_HDR 8u
#define CACHE_CHUNK_DATA (CACHE_CHUNK - CACHE_CHUNK_HDR)
#define CACHE_MX_MAX ((uint32_t)POLICY_MX_BLOB_MAX)
#define CACHE_EXT_MAX ((CACHE_MX_MAX + CACHE_CHUNK_DATA - 1) / CACHE_CHUNK_DATA)
#define CACHE_RESERVE CACHE_EXT_MAX /* free chunks kept for updates */
#define CACHE_PROBE_MAX 128u
#define CACHE_SPIN 200 /* lock-free tries before the locked read */
#define CACHE_LOCK_MS 2000
#define CACHE_MIN_SLOTS 64u
#define CACHE_MIN_CHUNKS 128u
#define CACHE_MAX_NSLOTS (1u << 27)
#define CACHE_MAX_NCHUNKS (1u << 26)
#define CACHE_MAX_ATTACH 6
#define CACHE_MAX_GROWS 4 /* per operation */

enum slot_state { SLOT_FREE = 0, SLOT_USED = 1, SLOT_TOMB = 2 };

struct cache_hdr {
	char ch_magic[8];
	uint32_t ch_version;
	uint32_t ch_endian;
	uint32_t ch_hdr_size;
	uint32_t ch_slot_size;
	uint32_t ch_slot_fixed;
	uint32_t ch_chunk_size;
	uint32_t ch_nslots;
	uint32_t ch_nchunks;
	uint32_t ch_probe_max; /* CACHE_PROBE_MAX of the writers */
	uint32_t ch_pad0;
	uint64_t ch_slots_off;
	uint64_t ch_cmap_off;
	uint64_t ch_chunks_off;
	uint64_t ch_file_size;
	uint64_t ch_key[2];
	int64_t ch_created;
	uint64_t ch_desc_sum; /* checksum of everything above */
	/* Mutable below. */
	uint32_t ch_retired; /* 1: replaced, re-attach */
	uint32_t ch_pad1;
	uint64_t ch_hits, ch_misses, ch_evictions, ch_corrupt;
	uint64_t ch_locked_reads, ch_grows, ch_lost;
	uint32_t ch_free_chunks; /* writers only; recounted on reclaim */
	uint32_t ch_pad2;
	uint64_t ch_torn;
	uint8_t ch_reserved[256 - 192];
};

struct cache_chunk {
	uint32_t cc_next; /* next chunk + 1, 0 = the last */
	uint32_t cc_pad;
	uint8_t cc_data[CACHE_CHUNK_DATA];
};

struct cache_slot {
	uint32_t cs_seq;  /* seqlock: odd = being written */
	uint32_t cs_lru;  /* coarse last use, outside the checksums */
	uint64_t cs_fsum; /* checksum of bytes 16 .. fixed end */
	uint64_t cs_hash;
	uint64_t cs_dsum; /* checksum of the domain and mx blob */
	int64_t cs_fetched;
	int64_t cs_expires;
	int64_t cs_txt_checked;
	int64_t cs_retry_after;
	int64_t cs_lease_deadline;
	uint32_t cs_max_age;
	uint32_t cs_fail_count;
	int32_t cs_lease_pid;
	uint32_t cs_n_mx;
	uint32_t cs_mx_len;
	uint32_t cs_ext;   /* 0 = mx inline, else first chunk + 1 */
	uint32_t cs_ext_n; /* chunks in the chain */
	uint16_t cs_dlen;
	uint8_t cs_state;
	uint8_t cs_kind;
	uint8_t cs_mode;
	uint8_t cs_idlen;
	uint8_t cs_fidlen;
	uint8_t cs_pad;
	char cs_id[32];
	char cs_fail_id[32];
	uint8_t cs_pad2[4];
	uint8_t cs_data[CACHE_SLOT_DATA];
};

struct cache_jrnl {
	uint32_t cj_armed; /* 1: the image must reach slot cj_slot */
	uint32_t cj_slot;
	uint32_t cj_nbytes; /* bytes of the image applied (from 8) */
	uint32_t cj_pad;
	uint64_t cj_sum; /* checksum of cj_slot, cj_nbytes, image */
	uint64_t cj_pad2;
	struct cache_slot cj_image;
};

#define SLOT_FSUM_FROM offsetof(struct cache_slot, cs_hash)

_Static_assert(sizeof(struct cache_hdr) == CACHE_HDR_SIZE, "hdr size");
_Static_assert(offsetof(struct cache_hdr, ch_desc_sum) == 104, "hdr pad");
_Static_assert(offsetof(struct cache_hdr, ch_reserved) == 192, "hdr pad");
_Static_assert(sizeof(struct cache_chunk) == CACHE_CHUNK, "chunk size");
_Static_assert(sizeof(struct cache_slot) == CACHE_SLOT_SIZE, "slot size");
_Static_assert(offsetof(struct cache_slot, cs_data) == CACHE_SLOT_FIXED,
	       "slot padding");
_Static_assert(offsetof(struct cache_slot, cs_dlen) == 100, "slot pad");
_Static_assert(offsetof(struct cache_slot, cs_id) == 108, "slot pad");
_Static_assert(CACHE_JRNL_OFF + sizeof(struct cache_jrnl) <= CACHE_SLOTS_OFF,
	       "journal fits");
_Static_assert(TXT_ID_MAX <= 32, "id field");
_Static_assert(DOMAIN_BUFSZ - 1 < CACHE_SLOT_DATA, "domain fits");

struct cache {
	char *path;
	size_t size_req, max_size;
	unsigned flags; /* CACHE_OPEN_* */
	struct shm shm;
	struct cache_hdr *hdr;
	struct cache_jrnl *jrnl;
	struct cache_slot *slots;
	uint32_t *cmap;
	unsigned char *chunks;
	uint32_t nslots, nchunks;
	uint64_t key[2];
	uint64_t file_size; /* as the header describes it */
	unsigned gen;
	uint32_t hits, misses; /* not yet added to the header */
	uint32_t lru_now;      /* coarse time for LRU stamps */
	uint32_t lru_ops;      /* lookups since lru_now was read */
	int64_t checked_at;    /* last check of the file under the name */
	uint32_t rover;	       /* where chunk allocation looks first */
	bool building;	       /* a new file being filled (migrate) */
};

void (*cache_test_before_write)(const char *domain);
void (*cache_test_mid_journal)(void);

static void stat_flush(struct cache *c);

static atomic_uint fork_gen;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
	atomic_fetch_add_explicit(&fork_gen, 1, memory_order_relaxed);
}

static void fork_register(void)
{
	(void)pthread_atfork(NULL, NULL, on_fork_child);
}

/* ---- hashing and checksums ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                   \
	do {                       \
		v0 += v1;          \
		v1 = ROTL(v1, 13); \
		v1 ^= v0;          \
		v0 = ROTL(v0, 32); \
		v2 += v3;          \
		v3 = ROTL(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = ROTL(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = ROTL(v1, 17); \
		v1 ^= v2;          \
		v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t load_le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* SipHash-2-4 (Aumasson, Bernstein), keyed per file. */
static uint64_t sip_hash(const uint64_t key[2], const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ull;
	uint64_t v1 = key[1] ^ 0x646f72616e646f6dull;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ull;
	uint64_t v3 = key[1] ^ 0x7465646279746573ull;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(p + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < left; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Integrity checksum (not a MAC: the file is ours, the checksum catches
 * stray bytes).  Two independent multiply lanes over 16 bytes at a time,
 * so the hot path is not one long dependency chain. */
struct sum {
	uint64_t a, b;
	uint64_t total;
};

static void sum_init(struct sum *st, uint64_t seed)
{
	st->a = 0xcbf29ce484222325ull ^ seed;
	st->b = 0x84222325cbf29ce4ull + seed;
	st->total = 0;
}

static void sum_update(struct sum *st, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t w1, w2, a = st->a, b = st->b;
	size_t i;

	for (i = 0; i + 16 <= len; i += 16) {
		memcpy(&w1, p + i, 8);
		memcpy(&w2, p + i + 8, 8);
		a = (a ^ w1) * 0x9e3779b97f4a7c15ull;
		b = (b ^ w2) * 0xc2b2ae3d27d4eb4full;
		a ^= a >> 29;
		b ^= b >> 31;
	}
	for (; i < len; i++)
		a = (a ^ p[i]) * 0x100000001b3ull;
	st->a = a;
	st->b = b;
	st->total += len;
}

static uint64_t sum_final(const struct sum *st)
{
	uint64_t h = st->a ^ ROTL(st->b, 27) ^ st->total;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	/* Never 0: a pristine (all-zero) slot must fail a checksum. */
	return h ? h : 1;
}

static uint64_t fixed_sum(const struct cache_slot *s)
{
	struct sum st;

	sum_init(&st, 1);
	sum_update(&st, (const unsigned char *)s + SLOT_FSUM_FROM,
		   CACHE_SLOT_FIXED - SLOT_FSUM_FROM);
	return sum_final(&st);
}

static uint64_t data_sum(const void *dom, size_t dlen, const void *mx,
			 size_t mx_len)
{
	struct sum st;

	sum_init(&st, 2);
	sum_update(&st, dom, dlen);
	if (mx_len)
		sum_update(&st, mx, mx_len);
	return sum_final(&st);
}

static uint64_t desc_sum(const struct cache_hdr *h)
{
	struct sum st;

	sum_init(&st, 3);
	sum_update(&st, h, offsetof(struct cache_hdr, ch_desc_sum));
	return sum_final(&st);
}

static uint64_t jrnl_sum(const struct cache_jrnl *j)
{
	struct sum st;
	uint32_t n = j->cj_nbytes <= CACHE_SLOT_SIZE ? j->cj_nbytes : 0;

	sum_init(&st, 4);
	sum_update(&st, &j->cj_slot, sizeof(j->cj_slot));
	sum_update(&st, &j->cj_nbytes, sizeof(j->cj_nbytes));
	sum_update(&st, &j->cj_image, n);
	return sum_final(&st);
}

/* Home slot of a hash: multiply-shift instead of a 64-bit division. */
static uint32_t home_of(uint32_t nslots, uint64_t h)
{
	return (uint32_t)(((h >> 32) * (uint64_t)nslots) >> 32);
}

static uint32_t home(const struct cache *c, uint64_t h)
{
	return home_of(c->nslots, h);
}

/* Is idx within the probe window starting at h's home slot? */
static bool in_window(const struct cache *c, uint64_t h, uint32_t idx)
{
	uint32_t start = home(c, h);
	uint32_t dist = idx >= start ? idx - start : c->nslots - start + idx;

	return dist < CACHE_PROBE_MAX;
}

/* ---- layout, creation, attach ---- */

struct layout {
	uint32_t nslots, nchunks;
	uint64_t cmap_off, chunks_off, file_size;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static int layout_make(uint32_t nslots, uint32_t nchunks, struct layout *l)
{
	if (nslots < CACHE_MIN_SLOTS)
		nslots = CACHE_MIN_SLOTS;
	if (nchunks < CACHE_MIN_CHUNKS)
		nchunks = CACHE_MIN_CHUNKS;
	if (nslots > CACHE_MAX_NSLOTS || nchunks > CACHE_MAX_NCHUNKS)
		return MT_ETOOBIG;
	l->nslots = nslots;
	l->nchunks = nchunks;
	l->cmap_off = CACHE_SLOTS_OFF + (uint64_t)nslots * CACHE_SLOT_SIZE;
	l->chunks_off = align_up(l->cmap_off + (uint64_t)nchunks * 4, 4096);
	l->file_size = l->chunks_off + (uint64_t)nchunks * CACHE_CHUNK;
	if (l->file_size > SIZE_MAX)
		return MT_ETOOBIG;
	return MT_OK;
}

/* A quarter of the file for the data area, the rest for slots. */
static int layout_for(size_t size, struct layout *l)
{
	uint64_t s = size, nc, ns;

	if (s < (1u << 20))
		s = 1u << 20;
	nc = s / 4 / CACHE_CHUNK;
	if (nc > CACHE_MAX_NCHUNKS)
		nc = CACHE_MAX_NCHUNKS;
	ns = (s - s / 4) / (CACHE_SLOT_SIZE + 0);
	if (ns > CACHE_MAX_NSLOTS)
		ns = CACHE_MAX_NSLOTS;
	return layout_make((uint32_t)ns, (uint32_t)nc, l);
}

static void hdr_fill(struct cache_hdr *h, const struct layout *l,
		     const uint64_t *key)
{
	memcpy(h->ch_magic, CACHE_MAGIC, sizeof(h->ch_magic));
	h->ch_version = CACHE_VERSION;
	h->ch_endian = CACHE_ENDIAN;
	h->ch_hdr_size = CACHE_HDR_SIZE;
	h->ch_slot_size = CACHE_SLOT_SIZE;
	h->ch_slot_fixed = CACHE_SLOT_FIXED;
	h->ch_chunk_size = CACHE_CHUNK;
	h->ch_probe_max = CACHE_PROBE_MAX;
	h->ch_nslots = l->nslots;
	h->ch_nchunks = l->nchunks;
	h->ch_slots_off = CACHE_SLOTS_OFF;
	h->ch_cmap_off = l->cmap_off;
	h->ch_chunks_off = l->chunks_off;
	h->ch_file_size = l->file_size;
	if (key != NULL) {
		h->ch_key[0] = key[0];
		h->ch_key[1] = key[1];
	} else if (getrandom(h->ch_key, sizeof(h->ch_key), 0) !=
		   (ssize_t)sizeof(h->ch_key)) {
		/* Without entropy the hash is still well mixed, only
		 * predictable; probing is bounded either way. */
		h->ch_key[0] = (uint64_t)clock_now() * 0x9e3779b97f4a7c15ull;
		h->ch_key[1] = (uint64_t)getpid() ^ (uint64_t)clock_mono_ms();
	}
	h->ch_created = clock_now();
	h->ch_desc_sum = desc_sum(h);
	h->ch_free_chunks = l->nchunks;
}

enum hdr_verdict { HDR_OK, HDR_TRUNCATED, HDR_BAD };

/* Is the descriptor ours?  *why says what is wrong. */
static enum hdr_verdict hdr_check(const struct cache_hdr *h, size_t size,
				  const char **why)
{
	struct layout l;

	*why = NULL;
	if (size < CACHE_HDR_SIZE) {
		*why = "file shorter than the header";
		return HDR_BAD;
	}
	if (memcmp(h->ch_magic, CACHE_MAGIC, sizeof(h->ch_magic)) != 0)
		*why = "bad magic";
	else if (h->ch_endian != CACHE_ENDIAN)
		*why = "foreign byte order";
	else if (h->ch_version != CACHE_VERSION)
		*why = "format version";
	else if (h->ch_desc_sum != desc_sum(h))
		*why = "header checksum";
	else if (h->ch_hdr_size != CACHE_HDR_SIZE ||
		 h->ch_slot_size != CACHE_SLOT_SIZE ||
		 h->ch_slot_fixed != CACHE_SLOT_FIXED ||
		 h->ch_chunk_size != CACHE_CHUNK ||
		 h->ch_probe_max != CACHE_PROBE_MAX ||
		 h->ch_slots_off != CACHE_SLOTS_OFF)
		*why = "layout descriptor";
	else if (h->ch_nslots < CACHE_MIN_SLOTS ||
		 h->ch_nchunks < CACHE_MIN_CHUNKS ||
		 layout_make(h->ch_nslots, h->ch_nchunks, &l) != MT_OK ||
		 l.cmap_off != h->ch_cmap_off ||
		 l.chunks_off != h->ch_chunks_off ||
		 l.file_size != h->ch_file_size)
		*why = "layout descriptor";
	if (*why != NULL)
		return HDR_BAD;
	if (size < h->ch_file_size) {
		*why = "file shorter than its header says (truncated)";
		return HDR_TRUNCATED;
	}
	/* Longer than described: the tail is ignored. */
	return HDR_OK;
}

static void detach(struct cache *c)
{
	shm_detach(&c->shm);
	c->hdr = NULL;
	c->jrnl = NULL;
	c->slots = NULL;
	c->cmap = NULL;
	c->chunks = NULL;
}

/* Point the handle's fields at a mapping whose header was checked. */
static void view_set(struct cache *c, unsigned char *base,
		     const struct cache_hdr *h)
{
	c->hdr = (struct cache_hdr *)(void *)base;
	c->jrnl = (struct cache_jrnl *)(void *)(base + CACHE_JRNL_OFF);
	c->slots = (struct cache_slot *)(void *)(base + CACHE_SLOTS_OFF);
	c->cmap = (uint32_t *)(void *)(base + h->ch_cmap_off);
	c->chunks = base + h->ch_chunks_off;
	c->nslots = h->ch_nslots;
	c->nchunks = h->ch_nchunks;
	c->key[0] = h->ch_key[0];
	c->key[1] = h->ch_key[1];
	c->file_size = h->ch_file_size;
	c->rover = 0;
}

static bool retired(const struct cache *c)
{
	return atomic_load_explicit((_Atomic uint32_t *)&c->hdr->ch_retired,
				    memory_order_acquire) != 0;
}

static void stat_add_n(uint64_t *ctr, uint64_t n)
{
	atomic_fetch_add_explicit((_Atomic uint64_t *)ctr, n,
				  memory_order_relaxed);
}

static void stat_add(struct cache *c, uint64_t *ctr)
{
	(void)c;
	stat_add_n(ctr, 1);
}

/* ---- reading a slot ---- */

static uint32_t seq_load(const struct cache_slot *s, memory_order mo)
{
	return atomic_load_explicit((_Atomic uint32_t *)&s->cs_seq, mo);
}

static bool pristine(const struct cache_slot *s)
{
	static const unsigned char zero[CACHE_SLOT_FIXED];

	return memcmp((const unsigned char *)s + 8, zero + 8,
		      CACHE_SLOT_FIXED - 8) == 0;
}

/* Fixed fields of a private copy: in range, extent inside the data area. */
static bool fields_ok(const struct cache_slot *s, uint32_t nchunks)
{
	if (s->cs_state != SLOT_USED)
		return false;
	if (s->cs_dlen == 0 || s->cs_dlen > DOMAIN_BUFSZ - 1 ||
	    s->cs_idlen > TXT_ID_MAX || s->cs_fidlen > TXT_ID_MAX)
		return false;
	if (s->cs_kind > CACHE_LOST || s->cs_mode > POLICY_MODE_ENFORCE)
		return false;
	if (s->cs_mx_len > CACHE_MX_MAX || s->cs_n_mx > s->cs_mx_len)
		return false;
	if (s->cs_ext == 0)
		return s->cs_ext_n == 0 &&
		       s->cs_mx_len <= CACHE_SLOT_DATA - s->cs_dlen;
	return s->cs_ext_n >= 1 && s->cs_ext_n <= CACHE_EXT_MAX &&
	       s->cs_ext <= nchunks && s->cs_ext_n <= nchunks &&
	       s->cs_mx_len > (s->cs_ext_n - 1) * CACHE_CHUNK_DATA &&
	       s->cs_mx_len <= s->cs_ext_n * CACHE_CHUNK_DATA;
}

static bool mx_blob_ok(const char *mx, uint32_t len, uint32_t n)
{
	uint32_t count = 0, off = 0;
	const char *nul;

	if (len == 0)
		return n == 0;
	if (mx[len - 1] != '\0')
		return false;
	while (off < len) {
		nul = memchr(mx + off, '\0', len - off);
		if (nul == NULL || nul == mx + off)
			return false; /* unterminated or empty pattern */
		off = (uint32_t)(nul - mx) + 1;
		count++;
	}
	return count == n;
}

/* A normalised name as domain.c makes them (lower-case LDH labels). */
static bool looks_normalised(const char *d, size_t len)
{
	size_t lab = 0;

	if (len == 0 || len > DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = d[i];

		if (ch == '.') {
			if (lab == 0)
				return false;
			lab = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
			   (ch >= '0' && ch <= '9') || ch == '-') {
			if (++lab > 63)
				return false;
		} else {
			return false;
		}
	}
	return lab > 0;
}

static struct cache_chunk *chunk_at(const struct cache *c, uint32_t i)
{
	return (struct cache_chunk *)(void *)(c->chunks +
					      (size_t)i * CACHE_CHUNK);
}

/* Copy a chain of n chunks starting at ext (first + 1) holding len bytes
 * into dst.  false when the chain leaves the data area or does not end
 * where the slot says (a race: the caller re-checks the sequence; else
 * damage). */
static bool chain_copy(const struct cache *c, uint32_t ext, uint32_t n,
		       uint32_t len, unsigned char *dst)
{
	uint32_t i = ext - 1, off = 0;

	for (uint32_t k = 0; k < n; k++) {
		const struct cache_chunk *ch;
		uint32_t take = len - off < CACHE_CHUNK_DATA ? len - off :
							       CACHE_CHUNK_DATA;
		uint32_t next;

		if (i >= c->nchunks)
			return false;
		ch = chunk_at(c, i);
		memcpy(dst + off, ch->cc_data, take);
		off += take;
		next = atomic_load_explicit((_Atomic uint32_t *)&ch->cc_next,
					    memory_order_relaxed);
		if (k + 1 == n)
			return next == 0 && off == len;
		if (next == 0)
			return false;
		i = next - 1;
	}
	return false;
}

static void slot_to_entry(const struct cache_slot *s, const char *dom,
			  struct cache_entry *e)
{
	memcpy(e->domain, dom, s->cs_dlen);
	e->domain[s->cs_dlen] = '\0';
	e->kind = s->cs_kind;
	e->mode = s->cs_mode;
	e->max_age = s->cs_max_age;
	e->fetched = s->cs_fetched;
	e->expires = s->cs_expires;
	e->txt_checked = s->cs_txt_checked;
	memcpy(e->id, s->cs_id, s->cs_idlen);
	e->id[s->cs_idlen] = '\0';
	e->fail_count = s->cs_fail_count;
	e->retry_after = s->cs_retry_after;
	memcpy(e->fail_id, s->cs_fail_id, s->cs_fidlen);
	e->fail_id[s->cs_fidlen] = '\0';
	e->lease_deadline = s->cs_lease_deadline;
	e->lease_pid = s->cs_lease_pid;
	e->n_mx = s->cs_n_mx;
	e->mx_len = s->cs_mx_len;
}

enum rd {
	RD_OK,		/* *out filled */
	RD_FREE,	/* a pristine FREE slot: ends a probe */
	RD_OTHER,	/* a tomb, or another domain's (valid or damaged) */
	RD_TORN,	/* a write is in progress: read again */
	RD_BAD_OURS,	/* damaged, and it is the wanted domain's */
	RD_BAD_UNKNOWN, /* damaged, nobody can tell whose */
	RD_NOMEM,
};

#define WANT_ANY 0x1 /* cache_foreach: any valid entry is wanted */

struct want {
	uint64_t hash;
	const char *dom;
	size_t dlen;
	unsigned flags;
	/* filled with a damaged slot's identity when not NULL and it can be
	 * told */
	char *damaged_dom;
};

/* Identity of a damaged slot (copy s, mapping m; consistent copy already
 * checked by the caller for the fixed part).  fsum_ok: the fixed checksum
 * holds, so the hash can be trusted. */
static enum rd damaged(const struct cache *c, uint32_t idx,
		       const struct cache_slot *s, const struct cache_slot *m,
		       bool fsum_ok, uint32_t s1, bool locked,
		       const struct want *w)
{
	char dom[DOMAIN_BUFSZ];
	uint64_t h;
	size_t dlen = s->cs_dlen;

	if (fsum_ok) {
		if (w->damaged_dom != NULL && dlen > 0 && dlen <= DOMAIN_MAX) {
			memcpy(w->damaged_dom, m->cs_data, dlen);
			w->damaged_dom[dlen] = '\0';
			if (!looks_normalised(w->damaged_dom, dlen))
				w->damaged_dom[0] = '\0';
		}
		if (w->flags & WANT_ANY)
			return RD_BAD_UNKNOWN;
		return s->cs_hash == w->hash ? RD_BAD_OURS : RD_OTHER;
	}
	if (dlen == 0 || dlen > DOMAIN_MAX)
		return RD_BAD_UNKNOWN;
	memcpy(dom, m->cs_data, dlen);
	if (!locked) {
		atomic_thread_fence(memory_order_acquire);
		if (seq_load(m, memory_order_relaxed) != s1)
			return RD_TORN;
	}
	if (!looks_normalised(dom, dlen))
		return RD_BAD_UNKNOWN;
	h = sip_hash(c->key, dom, dlen);
	if (!in_window(c, h, idx))
		return RD_BAD_UNKNOWN;
	if (w->damaged_dom != NULL) {
		memcpy(w->damaged_dom, dom, dlen);
		w->damaged_dom[dlen] = '\0';
	}
	if (w->flags & WANT_ANY)
		return RD_BAD_UNKNOWN;
	if (h == w->hash && dlen == w->dlen && memcmp(dom, w->dom, dlen) == 0)
		return RD_BAD_OURS;
	return RD_OTHER;
}

/*
 * Read slot idx once.  Without the lock a write in progress gives RD_TORN;
 * with it (locked) nobody writes, and an odd sequence is a crashed
 * writer's that no journal covered: damage.
 */
static enum rd read_once(struct cache *c, uint32_t idx, const struct want *w,
			 bool locked, struct cache_entry *out)
{
	const struct cache_slot *m = &c->slots[idx];
	struct cache_slot s;
	char *mx = NULL;
	bool fsum_ok, chain_ok = true;
	uint32_t s1 = seq_load(m, memory_order_acquire);

	if ((s1 & 1) && !locked)
		return RD_TORN;
	memcpy(&s, m, CACHE_SLOT_FIXED);
	if (!locked) {
		atomic_thread_fence(memory_order_acquire);
		if (seq_load(m, memory_order_relaxed) != s1)
			return RD_TORN;
	}
	if (s.cs_state == SLOT_FREE && !(s1 & 1) && pristine(&s))
		return RD_FREE;
	fsum_ok = !(s1 & 1) && fixed_sum(&s) == s.cs_fsum;
	if (!fsum_ok || (s.cs_state != SLOT_TOMB && !fields_ok(&s, c->nchunks)))
		return damaged(c, idx, &s, m, fsum_ok, s1, locked, w);
	if (s.cs_state == SLOT_TOMB)
		return RD_OTHER;
	if (!(w->flags & WANT_ANY) && s.cs_hash != w->hash)
		return RD_OTHER;
	/* Its hash: copy the data (domain, then the mx blob). */
	memcpy(s.cs_data, m->cs_data, s.cs_dlen);
	if (s.cs_mx_len) {
		mx = mem_alloc(s.cs_mx_len);
		if (mx == NULL)
			return RD_NOMEM;
		if (s.cs_ext == 0) {
			memcpy(mx, m->cs_data + s.cs_dlen, s.cs_mx_len);
			chain_ok = true;
		} else {
			chain_ok = chain_copy(c, s.cs_ext, s.cs_ext_n,
					      s.cs_mx_len, (unsigned char *)mx);
		}
	}
	if (!locked) {
		atomic_thread_fence(memory_order_acquire);
		if (seq_load(m, memory_order_relaxed) != s1) {
			mem_free(mx);
			return RD_TORN;
		}
	}
	if (!chain_ok ||
	    data_sum(s.cs_data, s.cs_dlen, mx, s.cs_mx_len) != s.cs_dsum ||
	    !mx_blob_ok(mx, s.cs_mx_len, s.cs_n_mx)) {
		mem_free(mx);
		if (w->damaged_dom != NULL)
			w->damaged_dom[0] = '\0';
		/* The hash (checked) is the wanted one: its data is bad. */
		return (w->flags & WANT_ANY) ? RD_BAD_UNKNOWN : RD_BAD_OURS;
	}
	if (!(w->flags & WANT_ANY) &&
	    (s.cs_dlen != w->dlen || memcmp(s.cs_data, w->dom, w->dlen) != 0)) {
		mem_free(mx);
		return RD_OTHER; /* a 64-bit hash collision */
	}
	slot_to_entry(&s, (const char *)s.cs_data, out);
	out->mx = mx;
	return RD_OK;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Lock-free: spin over a write in progress, a bounded number of times. */
static enum rd read_slot(struct cache *c, uint32_t idx, const struct want *w,
			 struct cache_entry *out)
{
	enum rd r = RD_TORN;

	for (int t = 0; t < CACHE_SPIN && r == RD_TORN; t++) {
		if (t == 1)
			stat_add(c, &c->hdr->ch_torn);
		if (t > 0) {
			if (t % 16 == 0)
				sched_yield();
			else
				cpu_relax();
		}
		r = read_once(c, idx, w, false, out);
	}
	return r;
}

/* ---- the writer lock and the journal ---- */

/* Apply image n to slot idx: nbytes from byte 8 (the checksum on). */
static void slot_write(struct cache *c, uint32_t idx,
		       const struct cache_slot *n, uint32_t nbytes)
{
	struct cache_slot *m = &c->slots[idx];
	_Atomic uint32_t *seq = (_Atomic uint32_t *)&m->cs_seq;
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);

	if (!(s & 1)) {
		s++;
		atomic_store_explicit(seq, s, memory_order_relaxed);
	}
	/* else: a crashed writer left it odd; we are its repair. */
	atomic_thread_fence(memory_order_release);
	if (shm_test_mid_write != NULL)
		shm_test_mid_write();
	memcpy((unsigned char *)m + 8, (const unsigned char *)n + 8,
	       nbytes - 8);
	atomic_store_explicit((_Atomic uint32_t *)&m->cs_lru, n->cs_lru,
			      memory_order_relaxed);
	atomic_store_explicit(seq, s + 1, memory_order_release);
}

/* Journal, then slot, then disarm (lock held). */
static void commit(struct cache *c, uint32_t idx, const struct cache_slot *n,
		   uint32_t nbytes)
{
	struct cache_jrnl *j = c->jrnl;

	memcpy(&j->cj_image, n, nbytes);
	if (cache_test_mid_journal != NULL)
		cache_test_mid_journal();
	j->cj_slot = idx;
	j->cj_nbytes = nbytes;
	j->cj_sum = jrnl_sum(j);
	atomic_store_explicit((_Atomic uint32_t *)&j->cj_armed, 1,
			      memory_order_release);
	slot_write(c, idx, n, nbytes);
	atomic_store_explicit((_Atomic uint32_t *)&j->cj_armed, 0,
			      memory_order_release);
}

/* Lock held: finish what a dead writer started, or drop it. */
static void recover(struct cache *c)
{
	struct cache_jrnl *j = c->jrnl;

	if (atomic_load_explicit((_Atomic uint32_t *)&j->cj_armed,
				 memory_order_acquire) == 0)
		return;
	if (j->cj_slot < c->nslots && j->cj_nbytes >= CACHE_SLOT_FIXED &&
	    j->cj_nbytes <= CACHE_SLOT_SIZE && jrnl_sum(j) == j->cj_sum) {
		slot_write(c, j->cj_slot, &j->cj_image, j->cj_nbytes);
		log_msg(LOG_LVL_NOTICE,
			"event=cache-journal-replayed path=%s slot=%u", c->path,
			j->cj_slot);
	} else {
		log_msg(LOG_LVL_NOTICE, "event=cache-journal-dropped path=%s",
			c->path);
	}
	atomic_store_explicit((_Atomic uint32_t *)&j->cj_armed, 0,
			      memory_order_release);
}

static int attach(struct cache *c);

/* About once a second: is the file under the name still ours, and as
 * long as our mapping?  Replaced: follow it.  Truncated: re-attach before
 * touching it (the rebuild keeps what is left). */
static int file_check(struct cache *c, int64_t now)
{
	struct stat st;

	if (now == c->checked_at)
		return MT_OK;
	c->checked_at = now;
	if (fstat(c->shm.fd, &st) == 0 && (uint64_t)st.st_size < c->file_size) {
		log_msg(LOG_LVL_ERR,
			"event=cache-truncated path=%s security=1 size=%lld "
			"want=%llu",
			c->path, (long long)st.st_size,
			(unsigned long long)c->file_size);
		return attach(c);
	}
	if (!shm_is_current(&c->shm, c->path)) {
		log_msg(LOG_LVL_WARN, "event=cache-replaced path=%s", c->path);
		return attach(c);
	}
	return MT_OK;
}

/* Every entry point: re-attach after fork() or when the file was
 * replaced. */
static int ready(struct cache *c)
{
	if (c == NULL)
		return MT_EINVAL;
	if (c->hdr == NULL ||
	    c->gen != atomic_load_explicit(&fork_gen, memory_order_relaxed) ||
	    retired(c))
		return attach(c);
	return MT_OK;
}

/* Attached, the current file's lock held, its journal recovered. */
static int lock_current(struct cache *c)
{
	int rc;

	for (int i = 0; i < CACHE_MAX_ATTACH; i++) {
		if ((rc = ready(c)) != MT_OK)
			return rc;
		if ((rc = file_check(c, clock_now())) != MT_OK)
			return rc;
		rc = shm_lock(&c->shm, CACHE_LOCK_MS);
		if (rc == MT_EBUSY)
			log_msg(LOG_LVL_WARN,
				"event=cache-lock-busy path=%s waited_ms=%d",
				c->path, CACHE_LOCK_MS);
		if (rc != MT_OK)
			return rc;
		if (!retired(c)) {
			recover(c);
			return MT_OK;
		}
		shm_unlock(&c->shm); /* replaced meanwhile: follow */
	}
	return MT_EIO;
}

static void unlock(struct cache *c)
{
	shm_unlock(&c->shm);
}

/* ---- migration into a new file (growth, salvage) ---- */

struct build {
	struct cache *old;  /* NULL: an empty file */
	uint64_t old_limit; /* bytes of the old mapping that exist */
	const struct layout *l;
	const uint64_t *key; /* NULL: a new key */
	unsigned moved, lost, dropped;
	int rc;
};

static int insert_new(struct cache *v, const struct cache_entry *e,
		      int64_t now);

/* Does slot m's chain lie inside the first limit bytes of o's file? */
static bool chain_inside(const struct cache *o, const struct cache_slot *m,
			 uint64_t limit)
{
	uint32_t i = m->cs_ext - 1, n = m->cs_ext_n;

	if (m->cs_ext == 0 || n == 0 || n > CACHE_EXT_MAX)
		return false;
	for (uint32_t k = 0; k < n; k++) {
		uint64_t end =
			o->hdr->ch_chunks_off + ((uint64_t)i + 1) * CACHE_CHUNK;
		uint32_t next;

		if (i >= o->nchunks || end > limit)
			return false;
		next = chunk_at(o, i)->cc_next;
		if (k + 1 == n)
			return next == 0;
		if (next == 0)
			return false;
		i = next - 1;
	}
	return false;
}

/* Copy every readable entry of b->old into the new view (lock held on the
 * old file; the new file is not visible yet). */
static void migrate(struct cache *v, struct build *b)
{
	struct cache *o = b->old;
	int64_t now = clock_now();
	char who[DOMAIN_BUFSZ];

	for (uint32_t i = 0; i < o->nslots && b->rc == MT_OK; i++) {
		struct cache_entry e;
		struct want w = { 0, NULL, 0, WANT_ANY, who };
		uint64_t end =
			CACHE_SLOTS_OFF + (uint64_t)(i + 1) * CACHE_SLOT_SIZE;
		const struct cache_slot *m = &o->slots[i];
		enum rd r;

		if (end > b->old_limit) {
			/* The slot itself was cut off: its name too. */
			b->dropped++;
			continue;
		}
		if (m->cs_ext != 0 && !chain_inside(o, m, b->old_limit)) {
			/* Its data was cut off: keep the name as lost. */
			r = RD_BAD_UNKNOWN;
			who[0] = '\0';
			if (fixed_sum(m) == m->cs_fsum && m->cs_dlen > 0 &&
			    m->cs_dlen <= DOMAIN_MAX) {
				memcpy(who, m->cs_data, m->cs_dlen);
				who[m->cs_dlen] = '\0';
				if (!looks_normalised(who, m->cs_dlen))
					who[0] = '\0';
			}
		} else {
			who[0] = '\0';
			memset(&e, 0, sizeof(e));
			r = read_once(o, i, &w, true, &e);
		}
		if (r == RD_NOMEM) {
			b->rc = MT_ENOMEM;
			break;
		}
		if (r == RD_OK) {
			b->rc = insert_new(v, &e, now);
			cache_entry_clear(&e);
			b->moved++;
			continue;
		}
		if (r == RD_FREE || r == RD_OTHER)
			continue;
		/* Damaged: a name that survived is kept as lost. */
		if (who[0] != '\0') {
			memset(&e, 0, sizeof(e));
			memcpy(e.domain, who, strlen(who) + 1);
			e.kind = CACHE_LOST;
			e.mode = POLICY_MODE_ENFORCE;
			e.expires = now + CACHE_LOST_TTL;
			b->rc = insert_new(v, &e, now);
			b->lost++;
			log_msg(LOG_LVL_ERR,
				"event=cache-entry-lost domain=%s security=1 "
				"why=\"damaged while rebuilding\"",
				who);
		} else {
			b->dropped++;
		}
	}
}

static int build_file(unsigned char *base, size_t size, void *arg)
{
	struct build *b = arg;
	struct cache v;

	if (size != b->l->file_size)
		return MT_EINTERNAL;
	/* Fresh from ftruncate: all zero, every slot pristine FREE. */
	hdr_fill((struct cache_hdr *)(void *)base, b->l, b->key);
	if (b->old == NULL)
		return MT_OK;
	memset(&v, 0, sizeof(v));
	v.path = b->old->path;
	v.building = true;
	view_set(&v, base, (struct cache_hdr *)(void *)base);
	/* The statistics go on. */
	v.hdr->ch_hits = b->old->hdr->ch_hits;
	v.hdr->ch_misses = b->old->hdr->ch_misses;
	v.hdr->ch_evictions = b->old->hdr->ch_evictions;
	v.hdr->ch_corrupt = b->old->hdr->ch_corrupt;
	v.hdr->ch_locked_reads = b->old->hdr->ch_locked_reads;
	v.hdr->ch_torn = b->old->hdr->ch_torn;
	v.hdr->ch_grows = b->old->hdr->ch_grows;
	v.hdr->ch_lost = b->old->hdr->ch_lost;
	b->rc = MT_OK;
	migrate(&v, b);
	return b->rc;
}

/* Replace the file under c's name by a new one of layout l holding every
 * readable entry of c's (lock held on c's file, which stays attached).
 * The old header is marked retired.  MT_OK or an error; c untouched. */
static int replace_file(struct cache *c, const struct layout *l,
			uint64_t old_limit, bool keep_key)
{
	struct build b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.old = c->hdr != NULL ? c : NULL;
	b.old_limit = old_limit;
	b.l = l;
	b.key = keep_key ? c->key : NULL;
	rc = shm_create(c->path, (size_t)l->file_size, build_file, &b, 1);
	if (rc != MT_OK)
		return rc;
	if (c->shm.base != NULL && c->shm.size >= CACHE_HDR_SIZE) {
		struct cache_hdr *old = (struct cache_hdr *)(void *)c->shm.base;

		atomic_store_explicit((_Atomic uint32_t *)&old->ch_retired, 1,
				      memory_order_release);
	}
	if (b.lost || b.dropped)
		log_msg(LOG_LVL_ERR,
			"event=cache-rebuilt path=%s security=1 moved=%u "
			"lost=%u unreadable=%u",
			c->path, b.moved, b.lost, b.dropped);
	else if (b.old != NULL)
		log_msg(LOG_LVL_NOTICE,
			"event=cache-rebuilt path=%s moved=%u slots=%u "
			"chunks=%u size=%llu",
			c->path, b.moved, l->nslots, l->nchunks,
			(unsigned long long)l->file_size);
	return MT_OK;
}

/* Lock held.  Grow the file (twice the size, at most max_size), then let
 * the caller start over on the new file.  MT_OK (the lock is released and
 * the handle re-attached), MT_EFULL (at the limit; lock still held). */
static int grow_locked(struct cache *c, const char *why)
{
	struct layout l;
	uint64_t want = c->file_size * 2;
	int rc;

	if (c->flags & CACHE_OPEN_NOCREATE)
		return MT_EFULL;
	if (want > c->max_size)
		want = c->max_size;
	if (want <= c->file_size || layout_for((size_t)want, &l) != MT_OK ||
	    l.nslots < c->nslots || l.nchunks < c->nchunks ||
	    (l.nslots == c->nslots && l.nchunks == c->nchunks))
		return MT_EFULL;
	if (!shm_is_current(&c->shm, c->path)) {
		unlock(c); /* replaced by someone else: follow */
		return attach(c);
	}
	rc = replace_file(c, &l, c->file_size, true);
	if (rc == MT_EFULL) {
		/* Not even the bigger file took every entry. */
		return MT_EFULL;
	}
	if (rc != MT_OK) {
		unlock(c);
		return rc;
	}
	log_msg(LOG_LVL_NOTICE, "event=cache-grown path=%s why=%s size=%llu",
		c->path, why, (unsigned long long)l.file_size);
	unlock(c);
	rc = attach(c);
	if (rc == MT_OK)
		stat_add(c, &c->hdr->ch_grows);
	return rc;
}

/* ---- attach ---- */

static int attach(struct cache *c)
{
	enum hdr_verdict v;
	const char *why;
	struct layout l;
	int rc = MT_EIO;

	if (c->hdr != NULL &&
	    c->gen == atomic_load_explicit(&fork_gen, memory_order_relaxed))
		stat_flush(c);
	detach(c);
	c->hits = 0; /* approximate: a child does not repeat its parent's */
	c->misses = 0;
	c->gen = atomic_load_explicit(&fork_gen, memory_order_relaxed);
	c->checked_at = clock_now();
	for (int i = 0; i < CACHE_MAX_ATTACH; i++) {
		rc = shm_attach(&c->shm, c->path);
		if (rc == MT_ENOTFOUND || rc == MT_ECORRUPT) {
			if (c->flags & CACHE_OPEN_NOCREATE)
				return rc;
			if (rc == MT_ECORRUPT) /* an empty file */
				log_msg(LOG_LVL_ERR,
					"event=cache-rebuilt path=%s "
					"security=1 why=\"empty file\"",
					c->path);
			{
				struct build b = { .l = &l };
				int replace = rc == MT_ECORRUPT;

				rc = layout_for(c->size_req, &l);
				if (rc != MT_OK)
					return rc;
				rc = shm_create(c->path, (size_t)l.file_size,
						build_file, &b, replace);
			}
			if (rc != MT_OK && rc != MT_EBUSY)
				return rc;
			continue;
		}
		if (rc != MT_OK)
			return rc;
		v = hdr_check((struct cache_hdr *)(void *)c->shm.base,
			      c->shm.size, &why);
		if (v == HDR_OK) {
			view_set(c, c->shm.base,
				 (struct cache_hdr *)(void *)c->shm.base);
			if (!retired(c))
				return MT_OK;
			if (!shm_is_current(&c->shm, c->path)) {
				detach(c); /* the name has a new file */
				continue;
			}
			why = "retired flag set on the current file";
			v = HDR_BAD;
		}
		if (c->flags & CACHE_OPEN_NOCREATE) {
			log_msg(LOG_LVL_ERR,
				"event=cache-unusable path=%s "
				"why=\"%s\"",
				c->path, why);
			detach(c);
			return MT_ECORRUPT;
		}
		/* Not usable as it is: rebuild, under its lock. */
		rc = shm_lock(&c->shm, CACHE_LOCK_MS);
		if (rc != MT_OK) {
			detach(c);
			return rc;
		}
		if (shm_is_current(&c->shm, c->path)) {
			log_msg(LOG_LVL_ERR,
				"event=cache-unusable path=%s security=1 "
				"why=\"%s\"",
				c->path, why);
			if (v == HDR_TRUNCATED) {
				/* The layout is known: keep what is left. */
				view_set(c, c->shm.base,
					 (struct cache_hdr *)(void *)
						 c->shm.base);
				rc = layout_make(c->nslots, c->nchunks, &l);
				if (rc == MT_OK)
					rc = replace_file(c, &l, c->shm.size,
							  true);
			} else {
				c->hdr = NULL;
				rc = layout_for(c->size_req, &l);
				if (rc == MT_OK)
					rc = replace_file(c, &l, 0, false);
				if (rc == MT_OK)
					log_msg(LOG_LVL_ERR,
						"event=cache-rebuilt path=%s "
						"security=1 why=\"%s\" "
						"lost=all",
						c->path, why);
			}
		}
		shm_unlock(&c->shm);
		detach(c);
		if (rc != MT_OK)
			return rc;
	}
	log_msg(LOG_LVL_ERR, "event=cache-attach-failed path=%s", c->path);
	return MT_EIO;
}

int cache_open_opts(struct cache **out, const char *path,
		    const struct cache_opts *opts)
{
	struct cache *c;
	int rc;

	*out = NULL;
	if (path == NULL || path[0] == '\0' || opts == NULL)
		return MT_EINVAL;
	(void)pthread_once(&fork_once, fork_register);
	c = mem_calloc(1, sizeof(*c));
	if (c == NULL)
		return MT_ENOMEM;
	c->shm.fd = -1;
	c->path = mem_strdup(path);
	if (c->path == NULL) {
		mem_free(c);
		return MT_ENOMEM;
	}
	c->size_req = opts->size ? opts->size : CACHE_DEFAULT_SIZE;
	c->max_size = opts->max_size ? opts->max_size : CACHE_DEFAULT_MAX_SIZE;
	c->flags = opts->flags;
	rc = attach(c);
	if (rc != MT_OK) {
		cache_close(c);
		return rc;
	}
	*out = c;
	return MT_OK;
}

int cache_open_flags(struct cache **out, const char *path, size_t size,
		     unsigned flags)
{
	struct cache_opts o = { size, 1, flags }; /* no growth */

	return cache_open_opts(out, path, &o);
}

int cache_open(struct cache **out, const char *path, size_t size)
{
	return cache_open_flags(out, path, size, 0);
}

void cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->hdr != NULL &&
	    c->gen == atomic_load_explicit(&fork_gen, memory_order_relaxed))
		stat_flush(c);
	detach(c);
	mem_free(c->path);
	mem_free(c);
}

void cache_entry_clear(struct cache_entry *e)
{
	if (e == NULL)
		return;
	mem_free(e->mx);
	memset(e, 0, sizeof(*e));
}

/* ---- lookups ---- */

/* Hit and miss counts are kept in the handle and added to the shared
 * header in bulk: an atomic add per lookup on one cache line shared by
 * every process would cost more than the lookup. */
#define STAT_FLUSH_EVERY 1024u

static void stat_flush(struct cache *c)
{
	if (c->hdr == NULL)
		return;
	if (c->hits)
		stat_add_n(&c->hdr->ch_hits, c->hits);
	if (c->misses)
		stat_add_n(&c->hdr->ch_misses, c->misses);
	c->hits = 0;
	c->misses = 0;
}

static int check_domain(const char *domain, size_t *len)
{
	if (domain == NULL)
		return MT_EINVAL;
	*len = strnlen(domain, DOMAIN_BUFSZ);
	if (*len == 0 || *len >= DOMAIN_BUFSZ)
		return MT_EINVAL;
	return MT_OK;
}

/* Probe the window.  Returns MT_OK (found, *out filled, *at its slot),
 * MT_ENOTFOUND, MT_ECORRUPT, MT_ENOMEM, or MT_EBUSY (lock-free only: a
 * write in progress; read again under the lock). */
static int probe_read(struct cache *c, const struct want *w, bool locked,
		      struct cache_entry *out, uint32_t *at)
{
	uint32_t idx = home(c, w->hash);
	bool unreadable = false;

	for (uint32_t i = 0; i < CACHE_PROBE_MAX; i++) {
		enum rd r = locked ? read_once(c, idx, w, true, out) :
				     read_slot(c, idx, w, out);

		switch (r) {
		case RD_OK:
			*at = idx;
			return MT_OK;
		case RD_NOMEM:
			return MT_ENOMEM;
		case RD_FREE:
			return unreadable ? MT_ECORRUPT : MT_ENOTFOUND;
		case RD_TORN:
			return MT_EBUSY;
		case RD_BAD_OURS:
			stat_add(c, &c->hdr->ch_corrupt);
			return MT_ECORRUPT;
		case RD_BAD_UNKNOWN:
			stat_add(c, &c->hdr->ch_corrupt);
			unreadable = true;
			break;
		case RD_OTHER:
			break;
		}
		if (++idx == c->nslots)
			idx = 0;
	}
	/* A damaged slot on the probe path may hold this domain's policy:
	 * the answer is "cannot tell", not "not cached". */
	return unreadable ? MT_ECORRUPT : MT_ENOTFOUND;
}

static void lru_touch(struct cache *c, uint32_t idx)
{
	_Atomic uint32_t *lru = (_Atomic uint32_t *)&c->slots[idx].cs_lru;
	uint32_t now = c->lru_now;

	if (atomic_load_explicit(lru, memory_order_relaxed) != now)
		atomic_store_explicit(lru, now, memory_order_relaxed);
}

int cache_get(struct cache *c, const char *domain, struct cache_entry *out)
{
	struct want w;
	size_t dlen;
	uint32_t at = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_domain(domain, &dlen)) != MT_OK)
		return rc;
	if ((rc = ready(c)) != MT_OK)
		return rc;
	/* The clock is read every 64 lookups, not on each (a tenth of a
	 * hit's cost); the file is checked when the second changed. */
	if ((c->lru_ops++ & 63) == 0) {
		int64_t now = clock_now();

		c->lru_now = (uint32_t)now;
		if ((rc = file_check(c, now)) != MT_OK)
			return rc;
	}
	memset(&w, 0, sizeof(w));
	w.hash = sip_hash(c->key, domain, dlen);
	w.dom = domain;
	w.dlen = dlen;
	rc = probe_read(c, &w, false, out, &at);
	if (rc == MT_EBUSY) {
		/* A write in progress: not damage.  Read under the lock,
		 * where nobody writes (a dead writer's journal is replayed
		 * first). */
		rc = lock_current(c);
		if (rc != MT_OK)
			return rc == MT_EBUSY ? MT_EBUSY : rc;
		stat_add(c, &c->hdr->ch_locked_reads);
		memset(&w, 0, sizeof(w));
		w.hash = sip_hash(c->key, domain, dlen);
		w.dom = domain;
		w.dlen = dlen;
		rc = probe_read(c, &w, true, out, &at);
		unlock(c);
	}
	if (rc == MT_OK) {
		lru_touch(c, at);
		if (++c->hits >= STAT_FLUSH_EVERY)
			stat_flush(c);
	} else if (rc == MT_ENOTFOUND || rc == MT_ECORRUPT) {
		if (++c->misses >= STAT_FLUSH_EVERY)
			stat_flush(c);
	}
	return rc;
}

/* ---- writing (lock held) ---- */

struct found {
	uint32_t at;  /* the domain's slot, UINT32_MAX none */
	bool damaged; /* at is damaged (it is the domain's) */
	/* first TOMB, or the FREE that ended the probe; UINT32_MAX none */
	uint32_t reuse;
};

static int probe_write(struct cache *c, uint64_t h, const char *d, size_t dlen,
		       struct found *f)
{
	struct want w = { h, d, dlen, 0, NULL };
	uint32_t idx = home(c, h);

	f->at = UINT32_MAX;
	f->damaged = false;
	f->reuse = UINT32_MAX;
	for (uint32_t i = 0; i < CACHE_PROBE_MAX; i++) {
		const struct cache_slot *m = &c->slots[idx];
		struct cache_entry e;
		enum rd r;

		memset(&e, 0, sizeof(e));
		/* Only the identity matters here: a valid slot of ours is
		 * re-read by the caller.  read_once copies the data of a
		 * slot with our hash; a tomb or another domain's costs the
		 * fixed part. */
		r = read_once(c, idx, &w, true, &e);
		cache_entry_clear(&e);
		switch (r) {
		case RD_FREE:
			if (f->reuse == UINT32_MAX)
				f->reuse = idx;
			return MT_OK;
		case RD_OK:
			f->at = idx;
			return MT_OK;
		case RD_BAD_OURS:
			f->at = idx;
			f->damaged = true;
			return MT_OK;
		case RD_NOMEM:
			return MT_ENOMEM;
		case RD_OTHER:
			if (m->cs_state == SLOT_TOMB && !(m->cs_seq & 1) &&
			    fixed_sum(m) == m->cs_fsum &&
			    f->reuse == UINT32_MAX)
				f->reuse = idx;
			break;
		case RD_BAD_UNKNOWN: /* never reused for another domain */
		case RD_TORN:	     /* impossible with the lock */
			break;
		}
		if (++idx == c->nslots)
			idx = 0;
	}
	return MT_OK;
}

/* Free the chain of slot idx (only chunks it owns; bounded). */
static void ext_free(struct cache *c, uint32_t ext, uint32_t n, uint32_t idx)
{
	uint32_t i = ext - 1;

	if (ext == 0)
		return;
	for (uint32_t k = 0; k < n && k < CACHE_EXT_MAX && i < c->nchunks;
	     k++) {
		uint32_t next = chunk_at(c, i)->cc_next;

		if (c->cmap[i] != idx + 1)
			break;
		c->cmap[i] = 0;
		c->hdr->ch_free_chunks++;
		if (next == 0)
			break;
		i = next - 1;
	}
}

/* Rebuild the chunk owners and the free count from the valid slots (the
 * leaks of dead writers, a count gone wrong). */
static void ext_reclaim(struct cache *c)
{
	uint32_t used = 0;

	memset(c->cmap, 0, (size_t)c->nchunks * sizeof(*c->cmap));
	for (uint32_t i = 0; i < c->nslots; i++) {
		const struct cache_slot *m = &c->slots[i];
		uint32_t k, ch;

		if (m->cs_state != SLOT_USED || (m->cs_seq & 1) ||
		    fixed_sum(m) != m->cs_fsum || !fields_ok(m, c->nchunks) ||
		    m->cs_ext == 0)
			continue;
		for (k = 0, ch = m->cs_ext - 1;
		     k < m->cs_ext_n && ch < c->nchunks && c->cmap[ch] == 0;
		     k++) {
			uint32_t next = chunk_at(c, ch)->cc_next;

			c->cmap[ch] = i + 1;
			used++;
			if (next == 0)
				break;
			ch = next - 1;
		}
	}
	c->hdr->ch_free_chunks = c->nchunks - used;
}

/* A chain of n free chunks for slot idx, holding data[0..len): its first
 * chunk + 1, or 0 when there is no room.  update: the slot already owns a
 * chain it frees afterwards, so it may use the reserve. */
static uint32_t ext_alloc(struct cache *c, uint32_t n, uint32_t idx,
			  const void *data, uint32_t len, bool update)
{
	const unsigned char *p = data;
	uint32_t first = 0, prev = UINT32_MAX, got = 0, off = 0;
	uint32_t keep = update || c->building ? 0 : CACHE_RESERVE;

	if (c->hdr->ch_free_chunks > c->nchunks)
		ext_reclaim(c);
	if (c->hdr->ch_free_chunks < n + keep) {
		ext_reclaim(c);
		if (c->hdr->ch_free_chunks < n + keep)
			return 0;
	}
	for (uint32_t k = 0; k < c->nchunks && got < n; k++) {
		uint32_t i = (c->rover + k) % c->nchunks;
		struct cache_chunk *ch;
		uint32_t take;

		if (c->cmap[i] != 0)
			continue;
		/* Free chunks: no reader can be looking at them. */
		ch = chunk_at(c, i);
		take = len - off < CACHE_CHUNK_DATA ? len - off :
						      CACHE_CHUNK_DATA;
		memcpy(ch->cc_data, p + off, take);
		off += take;
		ch->cc_next = 0;
		c->cmap[i] = idx + 1;
		if (prev == UINT32_MAX)
			first = i + 1;
		else
			chunk_at(c, prev)->cc_next = i + 1;
		prev = i;
		got++;
	}
	if (got < n) { /* the count was wrong: undo, recount */
		ext_free(c, first, got, idx);
		ext_reclaim(c);
		return 0;
	}
	c->hdr->ch_free_chunks -= n;
	c->rover = (prev + 1) % c->nchunks;
	return first;
}

/* Chunks are short and the file is at its limit: evict the least recently
 * used entries that may go (expired, negative, testing: never an
 * unexpired enforce policy) among those holding chains, until n + the
 * reserve are free.  Returns true when they are. */
static int evict_class(const struct cache_slot *m, uint32_t nchunks,
		       int64_t now);
static void clear_slot(struct cache *c, uint32_t idx, uint8_t state);

static bool evict_for_chunks(struct cache *c, uint32_t n, uint32_t skip,
			     int64_t now)
{
	while (c->hdr->ch_free_chunks < n + CACHE_RESERVE) {
		uint32_t best = UINT32_MAX, best_lru = UINT32_MAX;
		int best_cls = 3;

		for (uint32_t i = 0; i < c->nslots; i++) {
			const struct cache_slot *m = &c->slots[i];
			int cls;

			if (i == skip || m->cs_ext == 0)
				continue;
			cls = evict_class(m, c->nchunks, now);
			if (cls > 2)
				continue;
			if (cls < best_cls ||
			    (cls == best_cls && m->cs_lru < best_lru)) {
				best = i;
				best_cls = cls;
				best_lru = m->cs_lru;
			}
		}
		if (best == UINT32_MAX)
			return false;
		clear_slot(c, best, SLOT_TOMB);
		stat_add(c, &c->hdr->ch_evictions);
	}
	return true;
}

static bool lease_live(const struct cache_slot *m, int64_t now)
{
	if (m->cs_lease_pid <= 0 || m->cs_lease_deadline <= now)
		return false;
	return kill(m->cs_lease_pid, 0) == 0 || errno == EPERM;
}

/* Eviction class: lower goes first; CLASS_NEVER never. */
#define CLASS_NEVER 9
static int evict_class(const struct cache_slot *m, uint32_t nchunks,
		       int64_t now)
{
	if (m->cs_state != SLOT_USED || (m->cs_seq & 1) ||
	    fixed_sum(m) != m->cs_fsum || !fields_ok(m, nchunks))
		return CLASS_NEVER; /* damaged: may be anybody's */
	if (lease_live(m, now))
		return CLASS_NEVER;
	if (m->cs_expires <= now && m->cs_kind != CACHE_EMPTY)
		return 0;
	if (m->cs_kind == CACHE_LOST ||
	    (m->cs_kind == CACHE_POLICY && m->cs_mode == POLICY_MODE_ENFORCE))
		return CLASS_NEVER; /* never for another domain */
	if (m->cs_kind == CACHE_POLICY)
		return 2;
	return 1; /* negative answers, back-off state */
}

static uint32_t pick_victim(struct cache *c, uint64_t h, int64_t now,
			    int max_class)
{
	uint32_t idx = home(c, h), best = UINT32_MAX;
	int best_cls = CLASS_NEVER;
	uint32_t best_lru = 0;
	int64_t best_exp = 0;

	for (uint32_t i = 0; i < CACHE_PROBE_MAX; i++) {
		const struct cache_slot *m = &c->slots[idx];
		int cls = evict_class(m, c->nchunks, now);
		uint32_t lru = atomic_load_explicit(
			(_Atomic uint32_t *)&m->cs_lru, memory_order_relaxed);

		if (cls <= max_class &&
		    (cls < best_cls ||
		     (cls == best_cls && cls == 0 && m->cs_expires < best_exp) ||
		     (cls == best_cls && cls != 0 && lru < best_lru))) {
			best = idx;
			best_cls = cls;
			best_lru = lru;
			best_exp = m->cs_expires;
		}
		if (++idx == c->nslots)
			idx = 0;
	}
	return best;
}

/* Fixed fields of slot image n from entry e (no data, no sums). */
static int image_from(struct cache_slot *n, uint64_t h, const char *d,
		      size_t dlen, const struct cache_entry *e)
{
	size_t idlen = strnlen(e->id, sizeof(e->id));
	size_t fidlen = strnlen(e->fail_id, sizeof(e->fail_id));

	if (idlen > TXT_ID_MAX || fidlen > TXT_ID_MAX || e->kind > CACHE_LOST ||
	    e->mode > POLICY_MODE_ENFORCE)
		return MT_EINVAL;
	if (e->mx_len > CACHE_MX_MAX)
		return MT_ETOOBIG;
	if ((e->mx_len && e->mx == NULL) ||
	    !mx_blob_ok(e->mx, e->mx_len, e->n_mx))
		return MT_EINVAL;
	memset(n, 0, sizeof(*n));
	n->cs_lru = (uint32_t)clock_now();
	n->cs_hash = h;
	n->cs_fetched = e->fetched;
	n->cs_expires = e->expires;
	n->cs_txt_checked = e->txt_checked;
	n->cs_retry_after = e->retry_after;
	n->cs_lease_deadline = e->lease_deadline;
	n->cs_lease_pid = e->lease_pid;
	n->cs_max_age = e->max_age;
	n->cs_fail_count = e->fail_count;
	n->cs_n_mx = e->n_mx;
	n->cs_mx_len = e->mx_len;
	n->cs_dlen = (uint16_t)dlen;
	n->cs_state = SLOT_USED;
	n->cs_kind = e->kind;
	n->cs_mode = e->mode;
	n->cs_idlen = (uint8_t)idlen;
	n->cs_fidlen = (uint8_t)fidlen;
	memcpy(n->cs_id, e->id, idlen);
	memcpy(n->cs_fail_id, e->fail_id, fidlen);
	memcpy(n->cs_data, d, dlen);
	return MT_OK;
}

#define NEED_GROW 1 /* internal: grow the file, then start over */

/* Write entry e (answer and bookkeeping as given) into slot idx, data
 * included; idx's current extent (if any, and valid) is freed after. */
static bool slot_sane(const struct cache *c, const struct cache_slot *m)
{
	return !(m->cs_seq & 1) && fixed_sum(m) == m->cs_fsum &&
	       fields_ok(m, c->nchunks);
}

static int write_full(struct cache *c, uint32_t idx, uint64_t h,
		      const struct cache_entry *e)
{
	const struct cache_slot *m = &c->slots[idx];
	struct cache_slot n;
	uint32_t old_ext = 0, old_n = 0, used;
	size_t dlen = strlen(e->domain);
	int rc;

	rc = image_from(&n, h, e->domain, dlen, e);
	if (rc != MT_OK)
		return rc;
	if (slot_sane(c, m)) {
		old_ext = m->cs_ext;
		old_n = m->cs_ext_n;
	}
	used = (uint32_t)dlen;
	if (e->mx_len <= CACHE_SLOT_DATA - dlen) {
		if (e->mx_len)
			memcpy(n.cs_data + dlen, e->mx, e->mx_len);
		used += e->mx_len;
	} else {
		uint32_t k =
			(e->mx_len + CACHE_CHUNK_DATA - 1) / CACHE_CHUNK_DATA;
		uint32_t ext = ext_alloc(c, k, idx, e->mx, e->mx_len,
					 old_ext != 0 && k <= old_n);

		if (ext == 0 && c->file_size < c->max_size &&
		    !(c->flags & CACHE_OPEN_NOCREATE) && !c->building)
			return NEED_GROW;
		if (ext == 0 && !c->building &&
		    evict_for_chunks(c, k, idx, clock_now()))
			ext = ext_alloc(c, k, idx, e->mx, e->mx_len, false);
		if (ext == 0) {
			log_msg(LOG_LVL_ERR,
				"event=cache-full path=%s "
				"domain=%s why=\"no room for %u mx bytes\"",
				c->path, e->domain, e->mx_len);
			return MT_EFULL;
		}
		n.cs_ext = ext;
		n.cs_ext_n = k;
	}
	n.cs_dsum = data_sum(e->domain, dlen, e->mx, e->mx_len);
	n.cs_fsum = fixed_sum(&n);
	commit(c, idx, &n, CACHE_SLOT_FIXED + used);
	if (old_ext != 0 && old_ext != n.cs_ext)
		ext_free(c, old_ext, old_n, idx);
	return MT_OK;
}

/* Rewrite the fixed fields of valid slot idx as changed in *n (a copy of
 * them); the data and cs_dsum stay. */
static void write_fixed(struct cache *c, uint32_t idx, struct cache_slot *n)
{
	n->cs_fsum = fixed_sum(n);
	commit(c, idx, n, CACHE_SLOT_FIXED);
}

static void clear_slot(struct cache *c, uint32_t idx, uint8_t state)
{
	const struct cache_slot *m = &c->slots[idx];
	bool sane = slot_sane(c, m);
	uint32_t ext = sane ? m->cs_ext : 0, n_ext = sane ? m->cs_ext_n : 0;
	struct cache_slot n;

	memset(&n, 0, sizeof(n));
	n.cs_state = state;
	if (state != SLOT_FREE)
		n.cs_fsum = fixed_sum(&n);
	commit(c, idx, &n, CACHE_SLOT_SIZE);
	ext_free(c, ext, n_ext, idx);
}

/* A new slot for domain h (not present): a reusable one, else an expired
 * victim, else growth, else (at the limit) a negative or testing victim.
 * Returns the slot, or UINT32_MAX with *rc = NEED_GROW / MT_EFULL. */
static uint32_t place(struct cache *c, uint64_t h, const struct found *f,
		      int64_t now, int *rc)
{
	uint32_t idx;

	*rc = MT_OK;
	if (f->reuse != UINT32_MAX)
		return f->reuse;
	idx = pick_victim(c, h, now, 0);
	if (idx == UINT32_MAX && c->file_size < c->max_size &&
	    !(c->flags & CACHE_OPEN_NOCREATE)) {
		*rc = NEED_GROW;
		return UINT32_MAX;
	}
	if (idx == UINT32_MAX)
		idx = pick_victim(c, h, now, 2);
	if (idx == UINT32_MAX) {
		*rc = MT_EFULL;
		return UINT32_MAX;
	}
	stat_add(c, &c->hdr->ch_evictions);
	return idx;
}

/* Insert e into a view being built (no other process sees it). */
static int insert_new(struct cache *v, const struct cache_entry *e, int64_t now)
{
	struct found f;
	size_t dlen = strlen(e->domain);
	uint64_t h = sip_hash(v->key, e->domain, dlen);
	uint32_t idx;
	int rc;

	rc = probe_write(v, h, e->domain, dlen, &f);
	if (rc != MT_OK)
		return rc;
	if (f.at != UINT32_MAX)
		return MT_OK; /* a duplicate in a damaged source: first */
	idx = place(v, h, &f, now, &rc);
	if (idx == UINT32_MAX)
		return MT_EFULL;
	rc = write_full(v, idx, h, e);
	return rc == NEED_GROW ? MT_EFULL : rc;
}

/* The domain's slot is damaged: keep the name, as a lost entry. */
static void make_lost(struct cache *c, uint32_t idx, uint64_t h, const char *d,
		      int64_t now, struct cache_slot *n)
{
	struct cache_entry e;

	memset(&e, 0, sizeof(e));
	memcpy(e.domain, d, strlen(d) + 1);
	e.kind = CACHE_LOST;
	e.mode = POLICY_MODE_ENFORCE;
	e.expires = now + CACHE_LOST_TTL;
	(void)image_from(n, h, d, strlen(d), &e);
	n->cs_dsum = data_sum(d, strlen(d), NULL, 0);
	n->cs_fsum = fixed_sum(n);
	/* The domain bytes of a damaged slot may be wrong too. */
	commit(c, idx, n, CACHE_SLOT_FIXED + (uint32_t)strlen(d));
	stat_add(c, &c->hdr->ch_lost);
	log_msg(LOG_LVL_ERR,
		"event=cache-entry-lost domain=%s slot=%u security=1 "
		"why=\"damaged bytes\"",
		d, idx);
}

/* ---- the write operations ---- */

enum op { OP_PUT, OP_CONFIRM, OP_FAIL, OP_LEASE, OP_UNLEASE, OP_DELETE };

struct op_args {
	enum op op;
	const struct cache_entry *e; /* OP_PUT */
	const char *id;		     /* OP_CONFIRM, OP_FAIL */
	int64_t now, deadline;	     /* OP_LEASE: deadline */
	int64_t bmin, bmax;	     /* OP_FAIL */
	uint32_t fails;		     /* OP_FAIL: out */
};

static int64_t backoff_for(uint32_t fails, int64_t bmin, int64_t bmax)
{
	int64_t b = bmin;

	while (fails > 1 && b < bmax) {
		b *= 2;
		fails--;
	}
	return b < bmax ? b : bmax;
}

static void set_fail_id(struct cache_slot *n, const char *id)
{
	size_t len = id ? strnlen(id, TXT_ID_MAX) : 0;

	memset(n->cs_fail_id, 0, sizeof(n->cs_fail_id));
	memcpy(n->cs_fail_id, id ? id : "", len);
	n->cs_fidlen = (uint8_t)len;
}

/* One operation, lock held, file current.  NEED_GROW: grow and retry. */
static int op_locked(struct cache *c, const char *d, size_t dlen,
		     struct op_args *a)
{
	struct cache_slot n;
	struct found f;
	uint64_t h = sip_hash(c->key, d, dlen);
	const struct cache_slot *m;
	uint32_t idx;
	int rc = MT_OK;

	rc = probe_write(c, h, d, dlen, &f);
	if (rc != MT_OK)
		return rc;
	if (cache_test_before_write != NULL)
		cache_test_before_write(d);
	if (f.at != UINT32_MAX && f.damaged) {
		if (a->op == OP_DELETE) {
			clear_slot(c, f.at, SLOT_TOMB);
			return MT_OK;
		}
		if (a->op == OP_PUT && a->e->kind == CACHE_POLICY) {
			/* A fetched policy is authoritative: the repair. */
			log_msg(LOG_LVL_NOTICE,
				"event=cache-entry-repaired domain=%s slot=%u",
				d, f.at);
			return write_full(c, f.at, h, a->e);
		}
		make_lost(c, f.at, h, d, a->now, &n);
		if (a->op == OP_PUT || a->op == OP_CONFIRM ||
		    a->op == OP_UNLEASE)
			return a->op == OP_UNLEASE ? MT_OK : MT_EEXIST;
		/* OP_FAIL, OP_LEASE: go on with the lost entry. */
	}
	if (f.at == UINT32_MAX) {
		struct cache_entry e;

		switch (a->op) {
		case OP_CONFIRM:
		case OP_UNLEASE:
		case OP_DELETE:
			return MT_ENOTFOUND;
		case OP_PUT:
			if (a->e->kind != CACHE_POLICY &&
			    a->e->kind != CACHE_NEGATIVE)
				return MT_EINVAL;
			idx = place(c, h, &f, a->now, &rc);
			if (idx == UINT32_MAX)
				return rc;
			return write_full(c, idx, h, a->e);
		case OP_FAIL:
		case OP_LEASE:
			break;
		}
		memset(&e, 0, sizeof(e));
		memcpy(e.domain, d, dlen);
		e.kind = CACHE_EMPTY;
		if (a->op == OP_LEASE) {
			e.lease_pid = getpid();
			e.lease_deadline = a->deadline;
		} else {
			e.fail_count = 1;
			e.retry_after =
				a->now + backoff_for(1, a->bmin, a->bmax);
			memcpy(e.fail_id, a->id ? a->id : "",
			       a->id ? strnlen(a->id, TXT_ID_MAX) : 0);
			a->fails = 1;
		}
		idx = place(c, h, &f, a->now, &rc);
		if (idx == UINT32_MAX)
			return rc;
		return write_full(c, idx, h, &e);
	}

	/* The domain's valid slot: read it again under the lock; whatever
	 * another process stored meanwhile is what we change. */
	idx = f.at;
	m = &c->slots[idx];
	memset(&n, 0, sizeof(n));
	memcpy(&n, m, CACHE_SLOT_FIXED);
	switch (a->op) {
	case OP_PUT:
		if (a->e->kind != CACHE_POLICY && a->e->kind != CACHE_NEGATIVE)
			return MT_EINVAL;
		if (a->e->kind == CACHE_POLICY && m->cs_kind == CACHE_POLICY &&
		    m->cs_fetched > a->e->fetched)
			return MT_EEXIST; /* a newer fetch won */
		if (a->e->kind == CACHE_NEGATIVE &&
		    (m->cs_kind == CACHE_POLICY || m->cs_kind == CACHE_LOST) &&
		    m->cs_expires > a->now)
			return MT_EEXIST; /* RFC 8461 §10 */
		{
			struct cache_entry e = *a->e;

			/* The lease belongs to whoever holds it. */
			e.lease_pid = m->cs_lease_pid;
			e.lease_deadline = m->cs_lease_deadline;
			return write_full(c, idx, h, &e);
		}
	case OP_CONFIRM:
		if (m->cs_kind != CACHE_POLICY)
			return MT_ENOTFOUND;
		if (strnlen(a->id, TXT_ID_MAX + 1) != m->cs_idlen ||
		    memcmp(a->id, m->cs_id, m->cs_idlen) != 0)
			return MT_EEXIST;
		n.cs_txt_checked = a->now;
		n.cs_fail_count = 0;
		n.cs_retry_after = 0;
		set_fail_id(&n, "");
		write_fixed(c, idx, &n);
		return MT_OK;
	case OP_FAIL:
		n.cs_fail_count = m->cs_fail_count + 1;
		if (n.cs_fail_count == 0)
			n.cs_fail_count = UINT32_MAX;
		n.cs_retry_after =
			a->now + backoff_for(n.cs_fail_count, a->bmin, a->bmax);
		set_fail_id(&n, a->id);
		a->fails = n.cs_fail_count;
		write_fixed(c, idx, &n);
		return MT_OK;
	case OP_LEASE:
		if (m->cs_lease_pid != getpid() && lease_live(m, a->now))
			return MT_EBUSY;
		n.cs_lease_pid = getpid();
		n.cs_lease_deadline = a->deadline;
		write_fixed(c, idx, &n);
		return MT_OK;
	case OP_UNLEASE:
		if (m->cs_lease_pid != getpid())
			return MT_OK; /* not ours: leave it */
		if (m->cs_kind == CACHE_EMPTY && m->cs_fail_count == 0 &&
		    m->cs_retry_after == 0) {
			clear_slot(c, idx, SLOT_TOMB);
			return MT_OK; /* nothing left to keep */
		}
		n.cs_lease_pid = 0;
		n.cs_lease_deadline = 0;
		write_fixed(c, idx, &n);
		return MT_OK;
	case OP_DELETE:
		clear_slot(c, idx, SLOT_TOMB);
		return MT_OK;
	}
	return MT_EINTERNAL;
}

static int run_op(struct cache *c, const char *domain, struct op_args *a)
{
	size_t dlen;
	int rc;

	if ((rc = check_domain(domain, &dlen)) != MT_OK)
		return rc;
	for (int g = 0; g <= CACHE_MAX_GROWS; g++) {
		if ((rc = lock_current(c)) != MT_OK)
			return rc;
		rc = op_locked(c, domain, dlen, a);
		if (rc != NEED_GROW) {
			unlock(c);
			return rc;
		}
		rc = grow_locked(c, "full");
		if (rc == MT_EFULL) {
			unlock(c);
			break;
		}
		if (rc != MT_OK)
			return rc; /* unlocked by grow_locked */
	}
	log_msg(LOG_LVL_ERR, "event=cache-full path=%s domain=%s max_size=%llu",
		c->path, domain, (unsigned long long)c->max_size);
	return MT_EFULL;
}

int cache_put(struct cache *c, const struct cache_entry *e)
{
	struct op_args a;

	if (e == NULL)
		return MT_EINVAL;
	memset(&a, 0, sizeof(a));
	a.op = OP_PUT;
	a.e = e;
	a.now = clock_now();
	if (e->mx_len > CACHE_MX_MAX)
		return MT_ETOOBIG;
	return run_op(c, e->domain, &a);
}

int cache_confirm(struct cache *c, const char *domain, const char *id,
		  int64_t now)
{
	struct op_args a;

	if (id == NULL)
		return MT_EINVAL;
	memset(&a, 0, sizeof(a));
	a.op = OP_CONFIRM;
	a.id = id;
	a.now = now;
	return run_op(c, domain, &a);
}

int cache_note_failure(struct cache *c, const char *domain, const char *id,
		       int64_t now, int64_t backoff_min, int64_t backoff_max,
		       uint32_t *fails)
{
	struct op_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.op = OP_FAIL;
	a.id = id;
	a.now = now;
	a.bmin = backoff_min > 0 ? backoff_min : 1;
	a.bmax = backoff_max >= a.bmin ? backoff_max : a.bmin;
	rc = run_op(c, domain, &a);
	if (fails != NULL)
		*fails = a.fails;
	return rc;
}

/* The operations that need only the domain and a time. */
static int simple_op(struct cache *c, const char *domain, enum op op,
		     int64_t now, int64_t deadline)
{
	struct op_args a;

	memset(&a, 0, sizeof(a));
	a.op = op;
	a.now = now;
	a.deadline = deadline;
	return run_op(c, domain, &a);
}

int cache_lease(struct cache *c, const char *domain, int64_t now,
		int64_t deadline)
{
	return simple_op(c, domain, OP_LEASE, now, deadline);
}

int cache_unlease(struct cache *c, const char *domain)
{
	return simple_op(c, domain, OP_UNLEASE, clock_now(), 0);
}

int cache_delete(struct cache *c, const char *domain)
{
	return simple_op(c, domain, OP_DELETE, clock_now(), 0);
}

int cache_flush(struct cache *c)
{
	int rc;

	if ((rc = lock_current(c)) != MT_OK)
		return rc;
	for (uint32_t i = 0; i < c->nslots; i++) {
		const struct cache_slot *m = &c->slots[i];

		if (m->cs_state != SLOT_FREE || (m->cs_seq & 1) || !pristine(m))
			clear_slot(c, i, SLOT_FREE);
	}
	ext_reclaim(c); /* every chunk free again, and counted */
	unlock(c);
	log_msg(LOG_LVL_NOTICE, "event=cache-flushed path=%s", c->path);
	return MT_OK;
}

/* ---- walking ---- */

int cache_foreach(struct cache *c,
		  int (*fn)(const struct cache_entry *e, void *arg), void *arg)
{
	struct want w = { 0, NULL, 0, WANT_ANY, NULL };
	struct cache_entry e;
	int rc;

	if (fn == NULL)
		return MT_EINVAL;
	if ((rc = ready(c)) != MT_OK)
		return rc;
	for (uint32_t i = 0; i < c->nslots; i++) {
		enum rd r;

		memset(&e, 0, sizeof(e));
		r = read_slot(c, i, &w, &e);
		if (r == RD_TORN) { /* a write in progress: wait it out */
			if ((rc = lock_current(c)) != MT_OK)
				return rc;
			if (i < c->nslots)
				r = read_once(c, i, &w, true, &e);
			unlock(c);
		}
		if (r == RD_NOMEM)
			return MT_ENOMEM;
		if (r != RD_OK)
			continue;
		rc = fn(&e, arg);
		cache_entry_clear(&e);
		if (rc != 0)
			return MT_OK;
	}
	return MT_OK;
}

int cache_foreach_damaged(struct cache *c,
			  int (*fn)(uint32_t slot, const char *domain,
				    void *arg),
			  void *arg)
{
	char who[DOMAIN_BUFSZ];
	struct want w = { 0, NULL, 0, WANT_ANY, who };
	struct cache_entry e;
	int rc;

	if (fn == NULL)
		return MT_EINVAL;
	if ((rc = lock_current(c)) != MT_OK)
		return rc;
	for (uint32_t i = 0; i < c->nslots; i++) {
		enum rd r;

		who[0] = '\0';
		memset(&e, 0, sizeof(e));
		r = read_once(c, i, &w, true, &e);
		cache_entry_clear(&e);
		if (r == RD_NOMEM) {
			rc = MT_ENOMEM;
			break;
		}
		if (r == RD_BAD_UNKNOWN && fn(i, who[0] ? who : NULL, arg) != 0)
			break;
	}
	unlock(c);
	return rc;
}

int cache_stats(struct cache *c, struct cache_stats *st)
{
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = ready(c)) != MT_OK)
		return rc;
	stat_flush(c);
	st->slots = c->nslots;
	st->file_size = c->file_size;
	st->chunks = c->nchunks;
	for (uint32_t i = 0; i < c->nslots; i++) {
		struct cache_slot s;
		uint32_t s1 = seq_load(&c->slots[i], memory_order_acquire);

		memcpy(&s, &c->slots[i], CACHE_SLOT_FIXED);
		atomic_thread_fence(memory_order_acquire);
		if ((s1 & 1) ||
		    seq_load(&c->slots[i], memory_order_relaxed) != s1)
			continue; /* a write in progress: skip */
		if (s.cs_state == SLOT_FREE && pristine(&s))
			continue;
		if (fixed_sum(&s) != s.cs_fsum ||
		    (s.cs_state == SLOT_USED && !fields_ok(&s, c->nchunks)) ||
		    (s.cs_state != SLOT_USED && s.cs_state != SLOT_TOMB)) {
			st->damaged++;
			continue;
		}
		if (s.cs_state != SLOT_USED)
			continue;
		st->used++;
		if (s.cs_kind == CACHE_POLICY)
			st->policies++;
		else if (s.cs_kind == CACHE_NEGATIVE)
			st->negatives++;
		else if (s.cs_kind == CACHE_LOST)
			st->lost++;
		if (s.cs_ext)
			st->chunks_used += s.cs_ext_n;
	}
#define LOAD(f)                                              \
	atomic_load_explicit((_Atomic uint64_t *)&c->hdr->f, \
			     memory_order_relaxed)
	st->hits = LOAD(ch_hits);
	st->misses = LOAD(ch_misses);
	st->evictions = LOAD(ch_evictions);
	st->corrupt_seen = LOAD(ch_corrupt);
	st->locked_reads = LOAD(ch_locked_reads);
	st->torn_reads = LOAD(ch_torn);
	st->grows = LOAD(ch_grows);
#undef LOAD
	return MT_OK;
}

int cache_test_where(struct cache *c, const char *domain,
		     struct cache_where *wh)
{
	struct found f;
	size_t dlen;
	int rc;

	memset(wh, 0, sizeof(*wh));
	if ((rc = check_domain(domain, &dlen)) != MT_OK)
		return rc;
	if ((rc = lock_current(c)) != MT_OK)
		return rc;
	rc = probe_write(c, sip_hash(c->key, domain, dlen), domain, dlen, &f);
	if (rc != MT_OK) {
		/* out of memory */
	} else if (f.at == UINT32_MAX) {
		rc = MT_ENOTFOUND;
	} else {
		const struct cache_slot *m = &c->slots[f.at];

		wh->slot_off =
			CACHE_SLOTS_OFF + (uint64_t)f.at * CACHE_SLOT_SIZE;
		wh->state_off = offsetof(struct cache_slot, cs_state);
		wh->hash_off = offsetof(struct cache_slot, cs_hash);
		wh->kind_off = offsetof(struct cache_slot, cs_kind);
		wh->data_off = offsetof(struct cache_slot, cs_data);
		wh->fixed_sum_off = offsetof(struct cache_slot, cs_fsum);
		if (m->cs_ext)
			wh->ext_off = c->hdr->ch_chunks_off +
				      (uint64_t)(m->cs_ext - 1) * CACHE_CHUNK +
				      CACHE_CHUNK_HDR;
	}
	unlock(c);
	return rc;
}

/*
 * status.h - the status codes every mtasts module returns.
 *
 * 0 is success, every failure a named negative int.  The values are part of
 * the public ABI (plugin/mtasts.h repeats them as MTASTS_*): never renumber,
 * only append.
 */
#ifndef MTASTS_STATUS_H
#define MTASTS_STATUS_H

enum mt_status {
	MT_OK = 0,
	MT_ENOMEM = -1,	    /* an allocation failed */
	MT_EINVAL = -2,	    /* bad argument from the caller */
	MT_EPARSE = -3,	    /* input violates the grammar: rejected */
	MT_ETOOBIG = -4,    /* input over a hard cap */
	MT_EIO = -5,	    /* file or system call failed; errno kept */
	MT_ETEMP = -6,	    /* temporary failure: try again later */
	MT_ENOTFOUND = -7,  /* no such entry / record (final) */
	MT_ECORRUPT = -8,   /* stored data failed validation */
	MT_EPERM = -9,	    /* file owner or mode refused */
	MT_EBUSY = -10,	    /* held by another process */
	MT_ETIMEOUT = -11,  /* a deadline passed */
	MT_EINTERNAL = -12, /* a broken invariant (soft assertion) */
	MT_ECONFIG = -13,   /* configuration file error */
	MT_EFULL = -14,	    /* no room left (cache) */
	MT_EFETCH = -15,    /* policy fetch failed */
	MT_EPOLICY = -16,   /* enforced policy cannot be applied: defer */
	MT_EEXIST = -17,    /* not stored: a newer or stronger entry is kept */
	MT_ENOTSUP = -18, /* not available in this module (loaded on demand) */
};
#define MT_STATUS_MIN (-18)

/* Never NULL; unknown codes give "unknown status". */
const char *mt_strerror(int status);

#endif

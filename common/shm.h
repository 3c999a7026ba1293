/*
 * shm.h - a file-backed MAP_SHARED mapping that several processes share.
 *
 * Owns the file side only: safe open (O_NOFOLLOW, owner and mode checks),
 * atomic creation and replacement (a private temporary file renamed into
 * place, so a mapped inode is never truncated), the size check at attach,
 * and the writer lock (an OFD byte-range lock with a bounded wait).  What
 * the bytes mean is the caller's business (cache.c).
 */
#ifndef MTASTS_SHM_H
#define MTASTS_SHM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct shm {
	int fd;
	unsigned char *base; /* NULL when not attached */
	size_t size;	     /* the real size of the file at attach */
	dev_t dev;
	ino_t ino;
};

/* Fills a fresh file of the given size (already zeroed) before it becomes
 * visible under its final name. */
typedef int shm_init_fn(unsigned char *base, size_t size, void *arg);

/* Attach to the existing file at path.  MT_ENOTFOUND when there is none,
 * MT_EPERM for a symlink, a non-regular file, a file owned by another euid
 * or writable by group/others (logged), MT_EIO otherwise. */
int shm_attach(struct shm *s, const char *path);
/* Create the file at path (size bytes, 0600) filled by init.  With replace
 * false, an existing file wins (MT_EBUSY, nothing changed); with replace
 * true the new file is renamed over the old one, whose mappings keep the
 * old inode.  The new file is not attached. */
int shm_create(const char *path, size_t size, shm_init_fn *init, void *arg,
	       int replace);
void shm_detach(struct shm *s); /* idempotent */
/* True when path still names the file s has mapped (same device and
 * inode): false after a replacement, or when path is gone. */
int shm_is_current(const struct shm *s, const char *path);

/* Who must own a file at path: the caller (its euid/egid), or - when the
 * caller is root and the file's directory belongs to another user that
 * alone may write it - that user (the MTA's: Debian's Exim routes as
 * root), so a root process never leaves a file the MTA's own processes
 * cannot use, and never writes a file of root's own in that directory.
 * MT_OK or MT_EINVAL (path too long). */
int shm_owner_for(const char *path, uid_t *uid, gid_t *gid);

/* The writer lock: byte 0 of the file, OFD lock (owned by the open file
 * description, so a dead process cannot keep it).  Waits at most
 * timeout_ms.  MT_OK, MT_EBUSY, MT_EIO. */
int shm_lock(struct shm *s, int timeout_ms);
void shm_unlock(struct shm *s);

/* Test hook: called by writers between making a slot odd and writing its
 * data (NULL = none).  Tests SIGKILL themselves there. */
extern void (*shm_test_mid_write)(void);
#endif

/*
 * shm.c - the mapping under the policy cache: file safety, atomic creation
 * and replacement, the writer lock.
 *
 * Why a file and MAP_SHARED: Exim forks a process per delivery and the
 * cache must outlive every one of them and a restart (losing a policy
 * before max_age is a downgrade opportunity, RFC 8461 §10).  The file is
 * the only thing all those processes share.
 *
 * Trust.  The file lives in a directory the MTA user owns, but we trust
 * the file itself only as far as we checked it: opened with O_NOFOLLOW
 * (no symlink redirection), fstat'ed after open (regular, owned by our
 * euid, not writable by group or others; otherwise refused and logged),
 * and its real size taken from fstat, never from its contents.  The bytes
 * inside are validated by cache.c on every read.
 *
 * Never truncate a mapped file.  Shrinking a file that another process
 * has mapped makes every access beyond the new end raise SIGBUS in that
 * process - inside the MTA.  So a file is only ever created whole: a
 * private temporary file (O_EXCL, 0600, in the same directory) is sized
 * with ftruncate while nobody can see it, filled by the caller, fsync'ed,
 * then published with link() (first creation: fails if someone else won,
 * their file is used) or rename() (rebuild: atomically replaces the name;
 * processes that mapped the old inode keep it and learn from its header,
 * which cache.c marks retired, that they must re-attach).
 *
 * The writer lock is an open-file-description lock (F_OFD_SETLK) on byte
 * 0.  The kernel drops it when the last descriptor of the description is
 * closed, i.e. when the holder dies, so a crashed writer cannot keep it.
 * OFD locks are shared across fork() with the description: cache.c makes
 * a child re-open the file (its own description) before it writes.  The
 * wait is bounded: F_OFD_SETLK polled with short sleeps, never an
 * unbounded F_OFD_SETLKW inside a delivery.
 */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "status.h"

void (*shm_test_mid_write)(void);

int shm_owner_for(const char *path, uid_t *uid, gid_t *gid)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;
	int n;

	*uid = geteuid();
	*gid = getegid();
	if (*uid != 0)
		return MT_OK;
	if (slash == NULL)
		n = snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		n = snprintf(dir, sizeof(dir), "/");
	else
		n = snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path),
			     path);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return MT_EINVAL;
	/* A directory another user owns and nobody else may write: its
	 * files are that user's (the MTA's), even when root makes them. */
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid != 0 &&
	    !(st.st_mode & (S_IWGRP | S_IWOTH))) {
		*uid = st.st_uid;
		*gid = st.st_gid;
	}
	return MT_OK;
}

static int check_file(int fd, const char *path, struct stat *st)
{
	uid_t want;
	gid_t wgid;

	if (fstat(fd, st) != 0) {
		log_msg(LOG_LVL_ERR,
			"event=cache-file-error path=%s op=fstat "
			"error=\"%s\"",
			path, strerror(errno));
		return MT_EIO;
	}
	if (!S_ISREG(st->st_mode)) {
		log_msg(LOG_LVL_ERR,
			"event=cache-file-refused path=%s "
			"security=1 why=\"not a regular file\"",
			path);
		return MT_EPERM;
	}
	if (shm_owner_for(path, &want, &wgid) != MT_OK)
		return MT_EINVAL;
	if (st->st_uid != want) {
		/* Root in the MTA user's directory accepts only that user's
		 * file: a file of root's own there may be a link to one root
		 * must not write. */
		log_msg(LOG_LVL_ERR,
			"event=cache-file-refused path=%s security=1 "
			"why=\"owned by uid %lu, not %lu\"",
			path, (unsigned long)st->st_uid, (unsigned long)want);
		return MT_EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		log_msg(LOG_LVL_ERR,
			"event=cache-file-refused path=%s security=1 "
			"why=\"writable by group or others (mode %04o)\"",
			path, (unsigned)(st->st_mode & 07777));
		return MT_EPERM;
	}
	return MT_OK;
}

int shm_attach(struct shm *s, const char *path)
{
	struct stat st;
	void *p;
	int fd, rc;

	s->fd = -1;
	s->base = NULL;
	s->size = 0;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return MT_ENOTFOUND;
		if (errno == ELOOP) {
			log_msg(LOG_LVL_ERR,
				"event=cache-file-refused "
				"path=%s security=1 why=\"a symlink\"",
				path);
			return MT_EPERM;
		}
		rc = errno == EACCES || errno == EISDIR ? MT_EPERM : MT_EIO;
		log_msg(LOG_LVL_ERR,
			"event=cache-file-error path=%s op=open "
			"error=\"%s\"",
			path, strerror(errno));
		return rc;
	}
	rc = check_file(fd, path, &st);
	if (rc != MT_OK)
		goto fail;
	if (st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX) {
		rc = MT_ECORRUPT;
		goto fail;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED) {
		log_msg(LOG_LVL_ERR,
			"event=cache-file-error path=%s op=mmap "
			"error=\"%s\"",
			path, strerror(errno));
		rc = errno == ENOMEM ? MT_ENOMEM : MT_EIO;
		goto fail;
	}
	s->fd = fd;
	s->base = p;
	s->size = (size_t)st.st_size;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return MT_OK;
fail:
	close(fd);
	return rc;
}

int shm_is_current(const struct shm *s, const char *path)
{
	struct stat st;

	if (s->fd < 0 || lstat(path, &st) != 0)
		return 0;
	return st.st_dev == s->dev && st.st_ino == s->ino;
}

void shm_detach(struct shm *s)
{
	if (s->base != NULL)
		munmap(s->base, s->size);
	if (s->fd >= 0)
		close(s->fd);
	s->base = NULL;
	s->fd = -1;
	s->size = 0;
}

int shm_create(const char *path, size_t size, shm_init_fn *init, void *arg,
	       int replace)
{
	char tmp[4096];
	unsigned char *p = MAP_FAILED;
	int fd = -1, rc, n;
	unsigned seed;
	uid_t uid;
	gid_t gid;

	seed = (unsigned)getpid() ^ (unsigned)clock();
	n = snprintf(tmp, sizeof(tmp), "%s.new.%ld.%u", path, (long)getpid(),
		     seed);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return MT_EINVAL;
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		log_msg(LOG_LVL_ERR,
			"event=cache-file-error path=%s op=create "
			"error=\"%s\"",
			tmp, strerror(errno));
		return errno == EACCES ? MT_EPERM : MT_EIO;
	}
	/* fchmod: the umask must not matter, and 0600 is the rule.  Made by
	 * root in the MTA user's directory, the file is that user's. */
	if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)size) != 0 ||
	    shm_owner_for(path, &uid, &gid) != MT_OK ||
	    (uid != geteuid() && fchown(fd, uid, gid) != 0)) {
		rc = MT_EIO;
		goto out;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		rc = errno == ENOMEM ? MT_ENOMEM : MT_EIO;
		goto out;
	}
	rc = init(p, size, arg);
	if (rc != MT_OK)
		goto out;
	if (msync(p, size, MS_SYNC) != 0) {
		rc = MT_EIO;
		goto out;
	}
	if (replace) {
		if (rename(tmp, path) != 0) {
			rc = MT_EIO;
			goto out;
		}
		tmp[0] = '\0';
	} else if (link(tmp, path) != 0) {
		rc = errno == EEXIST ? MT_EBUSY : MT_EIO;
		goto out;
	}
	rc = MT_OK;
out:
	if (rc == MT_EIO)
		log_msg(LOG_LVL_ERR,
			"event=cache-file-error path=%s op=create "
			"error=\"%s\"",
			path, strerror(errno));
	if (p != MAP_FAILED)
		munmap(p, size);
	if (tmp[0] != '\0')
		unlink(tmp);
	close(fd);
	return rc;
}

static int lock_op(int fd, short type, int cmd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 1;
	return fcntl(fd, cmd, &fl);
}

int shm_lock(struct shm *s, int timeout_ms)
{
	struct timespec ts = { 0, 200000 }; /* 0.2 ms */
	long waited_us = 0;

	for (;;) {
		if (lock_op(s->fd, F_WRLCK, F_OFD_SETLK) == 0)
			return MT_OK;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return MT_EIO;
		if (waited_us / 1000 >= timeout_ms)
			return MT_EBUSY;
		nanosleep(&ts, NULL);
		waited_us += 200;
	}
}

void shm_unlock(struct shm *s)
{
	(void)lock_op(s->fd, F_UNLCK, F_OFD_SETLK);
}

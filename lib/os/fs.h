/* SPDX-License-Identifier: Apache-2.0 */
/* Files: reading what someone else controls, bounded; writing by replacement. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <sys/stat.h>

/* The one reader of whole files, and the one for files that someone else controls (a
 * configuration folder, a path on the command line, a container's hosts file, a bundle's
 * config.json, a state record): the whole regular file, at most max bytes, NUL-terminated
 * in *text (*len bytes; len may be NULL). Opened O_NONBLOCK (a FIFO never blocks us) and
 * checked with fstat before a byte is read: a FIFO, a device, a folder or a file over max
 * is refused, never read; the file is read to its end (a file of /proc says size 0), and
 * one that grows past max meanwhile is refused too. A final symlink is refused (errnum
 * ELOOP) unless HG_READ_FOLLOW. *st (may be NULL) gets the file's stat. -1 with err: code
 * HG_CNI_IO for a failed system call (errnum set), HG_CNI_INVALID_CONFIG for a refused
 * file (errnum ELOOP a symlink, EINVAL not a regular file, EFBIG over max); callers whose
 * errors carry another code set err->code after. */
#define HG_READ_FOLLOW 1u
/* hg_read_fd only: fd is a stream (stdin, a pipe), read from where it stands to its end
 * with read(2), at most max bytes; no fstat, *st untouched. */
#define HG_READ_STREAM 2u
struct hg_error;
int hg_read_file(const char *path, size_t max, unsigned flags, struct stat *st, char **text, size_t *len,
		 struct hg_error *err);
/* The same on a descriptor already open (name names it in messages), read from offset 0
 * with pread: its file offset is left alone. */
int hg_read_fd(int fd, const char *name, size_t max, unsigned flags, struct stat *st, char **text, size_t *len,
	       struct hg_error *err);

/* The new file of an atomic replacement (write, fsync, rename over the old one): unnamed
 * (O_TMPFILE) where the file system allows it, so that a writer killed before its
 * hg_tmp_link leaves nothing behind; elsewhere an ordinary new file created at once as
 * name (O_EXCL|O_NOFOLLOW: never one that is there, never through a symlink). *named says
 * which. Opened read-write with mode. -1 with errno. */
int hg_tmp_open(const char *dir, const char *name, mode_t mode, bool *named);
/* Gives the unnamed file open at fd the name name (linkat through /proc/self/fd, which
 * needs no capability); -1 with errno (EEXIST when name is taken). */
int hg_tmp_link(int fd, const char *name);

/* Temp files of a writer that was killed: removes the regular files of dir (never a
 * symlink, a folder or anything else) for which writer(name) returns the PID of their
 * writer and that process is gone (kill(2): ESRCH). writer returns 0 for every name that
 * is not exactly one of its temp names, or whose writer cannot be judged from here.
 * Returns how many were removed. */
int hg_sweep_temp(const char *dir, pid_t (*writer)(const char *name));
/* mkdir -p with mode for every folder it makes; -1 with errno. */
int hg_mkdir_p(const char *path, mode_t mode);

/* The one atomic replacement of a file (write, then rename over the old one): a file
 * being written into dir, unnamed where the file system allows it (hg_tmp_open), given a
 * temp name from tmp_name only when it is committed. tmp_name makes a temp name in dir
 * (heap; -1 when out of memory); on a name that is taken it is asked again, up to 16
 * times, and a name it makes again (the same string) is a leftover of a killed writer of
 * ours with our PID, removed first. Errors are HG_CNI_IO; callers with another code set
 * err->code after. */
struct hg_atomic {
	int fd; /* write the content here */
	char *tmp; /* the temp name, once it has one */
	const char *dir;
	int (*tmp_name)(const char *dir, char **path);
};
int hg_atomic_open(struct hg_atomic *t, const char *dir, int (*tmp_name)(const char *dir, char **path),
		   struct hg_error *err);
/* Writes len bytes at the file's position, restarting on EINTR and short writes; -1 with
 * errno. */
int hg_write_all(int fd, const void *p, size_t len);
/* Moves the file to path; the temp file is gone either way. HG_ATOMIC_NOREPLACE: only
 * when nothing is at path. HG_ATOMIC_SYNC: fsync the file first and its folder after (a
 * failure of the folder's fsync loses nothing visible now and is not an error). */
#define HG_ATOMIC_NOREPLACE 1u
#define HG_ATOMIC_SYNC 2u
int hg_atomic_commit(struct hg_atomic *t, const char *path, unsigned flags, struct hg_error *err);
/* Removes what is left of an uncommitted file. */
void hg_atomic_drop(struct hg_atomic *t);
#define _cleanup_atomic_ __attribute__((cleanup(hg_atomic_drop)))
/* fsync of a folder, after a rename into it; failures ignored. */
void hg_fsync_dir(const char *dir);
/* Copies the whole file at in (read with pread from offset 0: its offset is left alone)
 * to out's position; -1 with errno (EIO when in ends before its stat size). */
int hg_copy_fd(int in, int out);
/* The folder of this executable (readlink /proc/self/exe without its last part), in buf
 * of size bytes: -1 when it cannot be told. */
int hg_self_dir(char *buf, size_t size);

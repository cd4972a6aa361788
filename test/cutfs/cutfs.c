/*-------------------------------------------------------------------------
 *
 * cutfs.c
 *	  A FUSE file system that forgets what was not synced: the power-cut
 *	  tool of bufpool_ext's durability tests (test code, never part of the
 *	  shipped library).
 *
 *	  cutfs BACKING_DIR MOUNTPOINT [-o fuse-option ...]
 *
 * Everything passes through to BACKING_DIR, which plays the disk: what is
 * in it is what survives a power cut.  What a program writes is kept in
 * cutfs's memory, its "page cache", until the program makes it durable:
 *
 *	- File data (write, truncate, fallocate) lives in a per-file table of
 *	  512-byte sectors, each tagged with the sequence number of the write
 *	  that last touched it, until fsync or fdatasync of the file writes
 *	  them to the backing file and fsyncs it.  Reads see the sectors over
 *	  the backing file, so every process sees every other's unsynced
 *	  writes, as with a real page cache.  A partial sector is filled from
 *	  the file's current content first (read-modify-write, as a page cache).
 *	- Names (create, mkdir, unlink, rmdir, rename, symlink, link) change in
 *	  the backing directory at once, and each change is kept in an undo log
 *	  until the directory it changed is fsynced (for a rename, either of
 *	  its two: a journalling file system commits it as one transaction).
 *	  A removed name goes to a hidden trash directory so that its removal
 *	  can be undone; it is deleted when the removal is durable.  Each undo
 *	  entry holds a handle (O_PATH) on its directory, so it is undone right
 *	  even if the directory itself was renamed since.
 *	- Attribute changes (chmod, chown, utimens) are passed through and
 *	  count as durable at once; they are not modelled.
 *
 * The power cut is a command written to the control file MOUNTPOINT/.cutfs
 * (the write returns when it is done; reading the file gives counters):
 *
 *	cut [tear=512|4096] [keep=PCT] [seed=N]
 *		Every unsynced write is dropped, and the undo log is played back,
 *		newest first.  keep=PCT keeps each unsynced write with that
 *		probability instead (a disk that wrote some of its cache, in any
 *		order).  tear=B tears the last unsynced write of every file: the
 *		part before a random B-byte boundary inside it reaches the disk,
 *		the rest does not (a write that does not cross a boundary is kept
 *		or dropped whole, at random).  seed makes the choices repeatable.
 *	sync
 *		Make everything durable (as if every file and directory had been
 *		fsynced).
 *
 * The test processes must be gone before a cut: a process that survives it
 * would go on with a view of the files the disk no longer has.
 *
 * The mount uses direct_io and no attribute or entry caching, so the
 * kernel keeps no copy of its own and a cut is seen at once.  The loop is
 * single-threaded: every operation runs alone, so nothing here needs a
 * lock.
 *
 * Copyright (c) 2026, bufpool_ext developers
 *-------------------------------------------------------------------------
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE

#include <fuse.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SECTOR			512
#define CTL_NAME		".cutfs"
#define TRASH_NAME		".cutfs-trash"
#define CTL_FH			UINT64_MAX	/* file handle of the control file */
#define NODE_BUCKETS	1024

/* ------------------------------------------------------------ state */

static inline off_t
Min_off(off_t a, off_t b)
{
	return a < b ? a : b;
}

static inline off_t
Max_off(off_t a, off_t b)
{
	return a > b ? a : b;
}

typedef struct Sector
{
	uint64_t	idx;			/* file offset / SECTOR */
	uint64_t	seq;			/* the write that last touched it */
	char		data[SECTOR];
} Sector;

/* A file with unsynced data, found by its backing inode. */
typedef struct Node
{
	ino_t		ino;
	int			fd;				/* O_RDWR on the backing inode */
	off_t		size;			/* size as programs see it */
	off_t		floor;			/* backing bytes still visible below it */
	Sector	  **tab;			/* open addressing, by idx */
	size_t		cap;
	size_t		n;
	uint64_t	last_seq;		/* the file's last write ... */
	off_t		last_off;		/* ... and its byte range */
	size_t		last_len;
	struct Node *next;
} Node;

/* A directory an undo entry refers to (shared, counted). */
typedef struct DirRef
{
	ino_t		ino;
	int			fd;				/* O_PATH | O_DIRECTORY */
	int			refs;
	struct DirRef *next;
} DirRef;

typedef enum
{
	OP_CREATE, OP_MKDIR, OP_UNLINK, OP_RMDIR, OP_RENAME, OP_LINK
} OpKind;

static const char *const op_names[] = {
	"create", "mkdir", "unlink", "rmdir", "rename", "link"
};

/*
 * One name change not yet durable.  name1 in dir1 is the name created or
 * removed (the source of a rename); name2 in dir2 is a rename's target.
 * trash1 holds what unlink/rmdir removed, trash2 what a rename replaced.
 */
typedef struct Op
{
	OpKind		kind;
	DirRef	   *dir1;
	DirRef	   *dir2;
	char	   *name1;
	char	   *name2;
	char	   *trash1;
	char	   *trash2;
	ino_t		trash_ino1;		/* what trash1 holds */
	struct Op  *prev;			/* older */
	struct Op  *next;			/* newer */
} Op;

static int	backing_fd = -1;
static ino_t backing_ino;		/* the backing root, where the trash is */
static int	trash_fd = -1;
static Node *nodes[NODE_BUCKETS];
static DirRef *dirrefs;

/* how many handles programs hold open on each backing inode */
typedef struct OpenCount
{
	ino_t		ino;
	int			n;
	struct OpenCount *next;
} OpenCount;

static OpenCount *open_counts[NODE_BUCKETS];
static Op  *ops_oldest;
static Op  *ops_newest;
static uint64_t write_seq;
static uint64_t trash_seq;

static struct
{
	uint64_t	writes;
	uint64_t	fsyncs;
	uint64_t	dir_fsyncs;
	uint64_t	cuts;
	uint64_t	seed;
	uint64_t	dropped_writes;
	uint64_t	kept_writes;
	uint64_t	torn_writes;
	uint64_t	undone_ops;
	uint64_t	undo_errors;
	uint64_t	apply_errors;
} stats;

static void
note(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fputs("cutfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *
xmalloc(size_t n)
{
	void	   *p = calloc(1, n);

	if (p == NULL)
	{
		note("out of memory");
		abort();
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	char	   *p = xmalloc(strlen(s) + 1);

	strcpy(p, s);
	return p;
}

/* "/a/b" -> "a/b", "/" -> "." : paths relative to backing_fd */
static const char *
rel(const char *path)
{
	return path[1] != '\0' ? path + 1 : ".";
}

static bool
is_ctl(const char *path)
{
	return path != NULL && strcmp(path, "/" CTL_NAME) == 0;
}

/* the trash directory is not part of the file system's name space */
static bool
is_hidden(const char *path)
{
	size_t		n = strlen("/" TRASH_NAME);

	return path != NULL && strncmp(path, "/" TRASH_NAME, n) == 0 &&
		(path[n] == '\0' || path[n] == '/');
}

/* split "/a/b/c" into the parent's relative path "a/b" and "c" */
static void
split_path(const char *path, char *parent, size_t len, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t		n = (size_t) (slash - path);

	if (n == 0)
		snprintf(parent, len, ".");
	else
		snprintf(parent, len, "%.*s", (int) (n - 1), path + 1);
	*base = slash + 1;
}

/* ------------------------------------------------------------ sectors */

static size_t
sector_slot(const Node *node, uint64_t idx)
{
	size_t		mask = node->cap - 1;
	size_t		i = (size_t) ((idx * 0x9E3779B97F4A7C15ULL) >> 20) & mask;

	while (node->tab[i] != NULL && node->tab[i]->idx != idx)
		i = (i + 1) & mask;
	return i;
}

static Sector *
sector_find(const Node *node, uint64_t idx)
{
	if (node->n == 0)
		return NULL;
	return node->tab[sector_slot(node, idx)];
}

static void
sector_table_rebuild(Node *node, size_t cap)
{
	Sector	  **old = node->tab;
	size_t		old_cap = node->cap;

	node->tab = xmalloc(cap * sizeof(Sector *));
	node->cap = cap;
	node->n = 0;
	for (size_t i = 0; i < old_cap; i++)
	{
		if (old[i] != NULL)
		{
			node->tab[sector_slot(node, old[i]->idx)] = old[i];
			node->n++;
		}
	}
	free(old);
}

static void
sector_insert(Node *node, Sector *s)
{
	if ((node->n + 1) * 2 > node->cap)
		sector_table_rebuild(node, node->cap ? node->cap * 2 : 64);
	node->tab[sector_slot(node, s->idx)] = s;
	node->n++;
}

/* drop every sector at or after byte 'size'; zero the tail of the one cut */
static void
sector_truncate(Node *node, off_t size)
{
	uint64_t	first_gone = (uint64_t) (size + SECTOR - 1) / SECTOR;

	for (size_t i = 0; i < node->cap; i++)
	{
		Sector	   *s = node->tab[i];

		if (s == NULL)
			continue;
		if (s->idx >= first_gone)
		{
			free(s);
			node->tab[i] = NULL;
		}
		else if ((off_t) ((s->idx + 1) * SECTOR) > size)
			memset(s->data + (size - (off_t) s->idx * SECTOR), 0,
				   (size_t) ((off_t) (s->idx + 1) * SECTOR - size));
	}
	sector_table_rebuild(node, node->cap);
}

static int
cmp_sector_idx(const void *a, const void *b)
{
	const Sector *x = *(Sector *const *) a;
	const Sector *y = *(Sector *const *) b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* the node's sectors, sorted by offset (caller frees the array) */
static Sector **
sectors_sorted(const Node *node)
{
	Sector	  **v = xmalloc((node->n + 1) * sizeof(Sector *));
	size_t		k = 0;

	for (size_t i = 0; i < node->cap; i++)
		if (node->tab[i] != NULL)
			v[k++] = node->tab[i];
	qsort(v, k, sizeof(Sector *), cmp_sector_idx);
	return v;
}

/* ------------------------------------------------------------ nodes */

static Node **
node_bucket(ino_t ino)
{
	return &nodes[(size_t) ino % NODE_BUCKETS];
}

static Node *
node_find(ino_t ino)
{
	for (Node *n = *node_bucket(ino); n != NULL; n = n->next)
		if (n->ino == ino)
			return n;
	return NULL;
}

static Node *
node_find_fd(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	return node_find(st.st_ino);
}

/*
 * The node of an open backing file, made on its first unsynced change.
 * It holds its own read-write descriptor of the inode, so its data can be
 * written back (or read) after every program has closed the file, even
 * if its name is gone.
 */
static int
node_get(int fd, Node **out)
{
	struct stat st;
	char		proc[64];
	Node	   *node;
	int			rw;

	if (fstat(fd, &st) < 0)
		return -errno;
	if ((node = node_find(st.st_ino)) != NULL)
	{
		*out = node;
		return 0;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	rw = open(proc, O_RDWR | O_CLOEXEC);
	if (rw < 0)
		return -errno;
	node = xmalloc(sizeof(Node));
	node->ino = st.st_ino;
	node->fd = rw;
	node->size = node->floor = st.st_size;
	node->next = *node_bucket(st.st_ino);
	*node_bucket(st.st_ino) = node;
	*out = node;
	return 0;
}

static void
node_free(Node *node)
{
	Node	  **p = node_bucket(node->ino);

	while (*p != node)
		p = &(*p)->next;
	*p = node->next;
	for (size_t i = 0; i < node->cap; i++)
		free(node->tab[i]);
	free(node->tab);
	close(node->fd);
	free(node);
}

static int
opens_add(ino_t ino, int delta)
{
	OpenCount **p = &open_counts[(size_t) ino % NODE_BUCKETS];
	OpenCount  *c;

	while (*p != NULL && (*p)->ino != ino)
		p = &(*p)->next;
	if (*p == NULL)
	{
		if (delta <= 0)
			return 0;
		*p = xmalloc(sizeof(OpenCount));
		(*p)->ino = ino;
	}
	c = *p;
	c->n += delta;
	if (c->n > 0)
		return c->n;
	*p = c->next;
	free(c);
	return 0;
}

static bool trashed_file(ino_t ino);

/*
 * Free a file's unsynced data once nothing can see it again: no program
 * holds it open and its only name is in the trash (or none is left).  A
 * cut would drop it anyway; keeping it would hold a descriptor and memory
 * for every temporary file a program ever wrote.
 */
static void
node_forget_if_gone(ino_t ino)
{
	Node	   *node = node_find(ino);
	struct stat st;

	if (node == NULL || opens_add(ino, 0) > 0 || fstat(node->fd, &st) < 0)
		return;
	if (st.st_nlink == 0 || (st.st_nlink == 1 && trashed_file(ino)))
		node_free(node);
}

/* the file's content as programs see it: backing bytes, then sectors */
static ssize_t
node_read(const Node *node, char *buf, size_t size, off_t off)
{
	size_t		n;

	if (off >= node->size)
		return 0;
	n = (size_t) Min_off(node->size - off, size);
	memset(buf, 0, n);
	if (off < node->floor)
	{
		size_t		want = (size_t) Min_off(node->floor - off, n);
		size_t		done = 0;

		while (done < want)
		{
			ssize_t		r = pread(node->fd, buf + done, want - done, off + done);

			if (r < 0)
				return -errno;
			if (r == 0)
				break;			/* the backing file is shorter: zeros */
			done += (size_t) r;
		}
	}
	for (uint64_t idx = (uint64_t) off / SECTOR;
		 node->n > 0 && (off_t) (idx * SECTOR) < off + (off_t) n; idx++)
	{
		Sector	   *s = sector_find(node, idx);
		off_t		lo,
					hi;

		if (s == NULL)
			continue;
		lo = Max_off((off_t) (idx * SECTOR), off);
		hi = Min_off((off_t) ((idx + 1) * SECTOR), off + (off_t) n);
		memcpy(buf + (lo - off), s->data + (lo - (off_t) (idx * SECTOR)),
			   (size_t) (hi - lo));
	}
	return (ssize_t) n;
}

static int
node_write(Node *node, const char *buf, size_t size, off_t off)
{
	uint64_t	seq = ++write_seq;

	for (size_t done = 0; done < size;)
	{
		off_t		pos = off + (off_t) done;
		uint64_t	idx = (uint64_t) pos / SECTOR;
		size_t		in = (size_t) (pos - (off_t) (idx * SECTOR));
		size_t		chunk = SECTOR - in < size - done ? SECTOR - in : size - done;
		Sector	   *s = sector_find(node, idx);

		if (s == NULL)
		{
			ssize_t		r;

			s = xmalloc(sizeof(Sector));
			s->idx = idx;
			r = node_read(node, s->data, SECTOR, (off_t) (idx * SECTOR));
			if (r < 0)
			{
				free(s);
				return (int) r;
			}
			sector_insert(node, s);
		}
		memcpy(s->data + in, buf + done, chunk);
		s->seq = seq;
		done += chunk;
	}
	if (off + (off_t) size > node->size)
		node->size = off + (off_t) size;
	node->last_seq = seq;
	node->last_off = off;
	node->last_len = size;
	stats.writes++;
	return 0;
}

static void
node_set_size(Node *node, off_t size)
{
	if (size < node->size)
	{
		sector_truncate(node, size);
		if (size < node->floor)
			node->floor = size;
	}
	node->size = size;
}

/*
 * Write the node's sectors that 'keep' accepts to its backing file and
 * fsync it: all of them for an fsync, a chosen part for a cut (then the
 * size stays what the disk has unless a kept sector extends it).
 */
typedef bool (*KeepFn) (const Node *node, const Sector *s, void *arg);

static int
node_apply(Node *node, KeepFn keep, void *arg)
{
	Sector	  **v = sectors_sorted(node);
	struct stat st;
	off_t		end = 0;
	int			rc = 0;

	if (fstat(node->fd, &st) < 0)
		rc = -errno;
	if (rc == 0 && keep == NULL && node->floor < st.st_size &&
		ftruncate(node->fd, node->floor) < 0)
		rc = -errno;
	for (size_t i = 0; rc == 0 && i < node->n; i++)
	{
		off_t		pos = (off_t) (v[i]->idx * SECTOR);

		if (keep != NULL && !keep(node, v[i], arg))
			continue;
		if (pwrite(node->fd, v[i]->data, SECTOR, pos) != SECTOR)
			rc = errno ? -errno : -EIO;
		end = Max_off(end, Min_off(pos + SECTOR, node->size));
	}
	if (rc == 0)
	{
		off_t		size = keep == NULL ? node->size : Max_off(st.st_size, end);

		if (ftruncate(node->fd, size) < 0 || fsync(node->fd) < 0)
			rc = -errno;
	}
	free(v);
	return rc;
}

/* ------------------------------------------------------------ undo log */

static int
dirref_get(const char *relpath, DirRef **out)
{
	struct stat st;
	int			fd = openat(backing_fd, relpath, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
	{
		int			e = errno;

		close(fd);
		return -e;
	}
	for (DirRef *d = dirrefs; d != NULL; d = d->next)
	{
		if (d->ino == st.st_ino)
		{
			close(fd);
			d->refs++;
			*out = d;
			return 0;
		}
	}
	*out = xmalloc(sizeof(DirRef));
	(*out)->ino = st.st_ino;
	(*out)->fd = fd;
	(*out)->refs = 1;
	(*out)->next = dirrefs;
	dirrefs = *out;
	return 0;
}

static void
dirref_put(DirRef *d)
{
	DirRef	  **p = &dirrefs;

	if (d == NULL || --d->refs > 0)
		return;
	while (*p != d)
		p = &(*p)->next;
	*p = d->next;
	close(d->fd);
	free(d);
}

static Op *
op_new(OpKind kind)
{
	Op		   *op = xmalloc(sizeof(Op));

	op->kind = kind;
	op->prev = ops_newest;
	if (ops_newest != NULL)
		ops_newest->next = op;
	else
		ops_oldest = op;
	ops_newest = op;
	return op;
}

static void
op_unlink_free(Op *op)
{
	if (op->prev != NULL)
		op->prev->next = op->next;
	else
		ops_oldest = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	else
		ops_newest = op->prev;
	dirref_put(op->dir1);
	dirref_put(op->dir2);
	free(op->name1);
	free(op->name2);
	free(op->trash1);
	free(op->trash2);
	free(op);
}

/* remove at/name, a file or a whole tree */
static int
remove_tree(int at, const char *name)
{
	struct stat st;
	int			fd;
	DIR		   *dir;
	struct dirent *e;
	int			rc = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) < 0 ? -errno : 0;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL)
	{
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((e = readdir(dir)) != NULL)
	{
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (remove_tree(dirfd(dir), e->d_name) < 0)
			rc = -EIO;
	}
	closedir(dir);
	if (unlinkat(at, name, AT_REMOVEDIR) < 0)
		rc = -errno;
	return rc;
}

/* is ino a file an unsynced unlink put in the trash? */
static bool
trashed_file(ino_t ino)
{
	for (Op *op = ops_oldest; op != NULL; op = op->next)
		if (op->kind == OP_UNLINK && op->trash1 != NULL && op->trash_ino1 == ino)
			return true;
	return false;
}

/* move dirfd/name into the trash; its trash name in *trash */
static int
to_trash(int dirfd, const char *name, char **trash)
{
	char		t[32];

	snprintf(t, sizeof(t), "%" PRIu64, ++trash_seq);
	if (renameat(dirfd, name, trash_fd, t) < 0)
		return -errno;
	*trash = xstrdup(t);
	return 0;
}

static void node_forget_if_gone(ino_t ino);
static void op_commit(Op *op);

/*
 * A removed name is gone for good: delete it from the trash.  A directory
 * takes the unsynced changes made in it along (nothing can undo them
 * now), and a file whose last name went takes its unsynced data.
 */
static void
trash_delete(const char *name)
{
	struct stat st;

	if (fstatat(trash_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	remove_tree(trash_fd, name);
	if (S_ISDIR(st.st_mode))
	{
		Op		   *op = ops_oldest;

		while (op != NULL)
		{
			if ((op->dir1 != NULL && op->dir1->ino == st.st_ino) ||
				(op->dir2 != NULL && op->dir2->ino == st.st_ino))
			{
				op_commit(op);
				op = ops_oldest;	/* the list changed: start again */
			}
			else
				op = op->next;
		}
	}
	else if (S_ISREG(st.st_mode))
		node_forget_if_gone(st.st_ino);
}

/* the op became durable: what it removed is gone for good */
static void
op_commit(Op *op)
{
	char	   *t1 = op->trash1;
	char	   *t2 = op->trash2;

	op->trash1 = op->trash2 = NULL;
	op_unlink_free(op);
	if (t1 != NULL)
		trash_delete(t1);
	if (t2 != NULL)
		trash_delete(t2);
	free(t1);
	free(t2);
}

static int
op_undo(Op *op)
{
	int			rc = 0;

	/* each step gives 0 or -errno; a name is never put back over another */
	switch (op->kind)
	{
		case OP_CREATE:
		case OP_LINK:
			rc = unlinkat(op->dir1->fd, op->name1, 0) < 0 ? -errno : 0;
			break;
		case OP_MKDIR:
			rc = remove_tree(op->dir1->fd, op->name1);
			break;
		case OP_UNLINK:
		case OP_RMDIR:
			rc = renameat2(trash_fd, op->trash1, op->dir1->fd, op->name1,
						   RENAME_NOREPLACE) < 0 ? -errno : 0;
			break;
		case OP_RENAME:
			rc = renameat2(op->dir2->fd, op->name2, op->dir1->fd, op->name1,
						   RENAME_NOREPLACE) < 0 ? -errno : 0;
			if (rc == 0 && op->trash2 != NULL)
				rc = renameat2(trash_fd, op->trash2, op->dir2->fd, op->name2,
							   RENAME_NOREPLACE) < 0 ? -errno : 0;
			break;
	}
	if (rc != 0)
	{
		note("could not undo %s of \"%s\": %s", op_names[op->kind], op->name1,
			 strerror(-rc));
		stats.undo_errors++;
	}
	return rc;
}

/* a directory was fsynced: the changes of its names are durable */
static void
ops_dir_synced(ino_t ino)
{
	Op		   *op = ops_oldest;

	while (op != NULL)
	{
		Op		   *next = op->next;

		/*
		 * A rename is one journal transaction on a journalling file
		 * system (ext4, xfs): fsync of either directory makes all of it
		 * durable.
		 */
		if ((op->dir1 != NULL && op->dir1->ino == ino) ||
			(op->dir2 != NULL && op->dir2->ino == ino))
		{
			/* op_commit may free ops after this one: start again */
			op_commit(op);
			next = ops_oldest;
		}
		op = next;
	}
}

/* record a change of name 'path' (and 'path2' for a rename/link target) */
static int
op_record(OpKind kind, const char *path, const char *path2, Op **out)
{
	char		parent[PATH_MAX];
	const char *base;
	Op		   *op = op_new(kind);
	int			rc;

	split_path(path, parent, sizeof(parent), &base);
	rc = dirref_get(parent, &op->dir1);
	op->name1 = xstrdup(base);
	if (rc == 0 && path2 != NULL)
	{
		split_path(path2, parent, sizeof(parent), &base);
		rc = dirref_get(parent, &op->dir2);
		op->name2 = xstrdup(base);
	}
	if (rc != 0)
	{
		op_unlink_free(op);
		return rc;
	}
	*out = op;
	return 0;
}

/* ------------------------------------------------------------ cut */

typedef struct CutOpts
{
	int			tear;			/* 0, 512 or 4096 */
	int			keep_pct;
	uint64_t	seed;
} CutOpts;

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * What a cut keeps of one file.  The choices depend on the seed, the
 * file's inode and each write's rank among the file's unsynced writes
 * (not on the global write counter), so the same seed and the same writes
 * give the same outcome.
 */
typedef struct CutPlan
{
	const CutOpts *opts;
	uint64_t   *seqs;			/* the file's unsynced writes, in order */
	size_t		nseqs;
	off_t		tear_at;		/* keep the last write's sectors before it */
	bool		last_kept;		/* last write kept whole (no tear point) */
} CutPlan;

/* the rank of write seq among the file's unsynced writes */
static size_t
write_rank(const CutPlan *plan, uint64_t seq)
{
	size_t		lo = 0,
				hi = plan->nseqs;

	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;

		if (plan->seqs[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t
cut_random(const CutPlan *plan, ino_t ino, uint64_t seq)
{
	return mix64(plan->opts->seed ^
				 mix64((uint64_t) ino * 0x9E3779B97F4A7C15ULL + write_rank(plan, seq)));
}

static bool
cut_keep(const Node *node, const Sector *s, void *arg)
{
	const CutPlan *plan = arg;

	if (plan->opts->tear != 0 && s->seq == node->last_seq)
		return plan->tear_at > 0 ? (off_t) (s->idx * SECTOR) < plan->tear_at
			: plan->last_kept;
	return (int) (cut_random(plan, node->ino, s->seq) % 100) < plan->opts->keep_pct;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a;
	uint64_t	y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

/* the distinct writes of a node's sectors, in order (caller frees) */
static uint64_t *
node_writes(const Node *node, size_t *n)
{
	uint64_t   *v = xmalloc((node->n + 1) * sizeof(uint64_t));
	size_t		k = 0,
				m = 0;

	for (size_t i = 0; i < node->cap; i++)
		if (node->tab[i] != NULL)
			v[k++] = node->tab[i]->seq;
	qsort(v, k, sizeof(uint64_t), cmp_u64);
	for (size_t i = 0; i < k; i++)
		if (i == 0 || v[i] != v[i - 1])
			v[m++] = v[i];
	*n = m;
	return v;
}

/* how many of the file's writes the plan keeps, whole or in part */
static uint64_t
kept_writes(const Node *node, const CutPlan *plan)
{
	bool	   *kept = xmalloc(plan->nseqs + 1);
	uint64_t	n = 0;

	for (size_t i = 0; i < node->cap; i++)
	{
		const Sector *s = node->tab[i];
		size_t		r;

		if (s == NULL || !cut_keep(node, s, (void *) plan))
			continue;
		r = write_rank(plan, s->seq);
		n += !kept[r];
		kept[r] = true;
	}
	free(kept);
	return n;
}

static void
cut(const CutOpts *opts)
{
	stats.cuts++;
	stats.seed = opts->seed;
	stats.dropped_writes = stats.kept_writes = stats.torn_writes = 0;
	stats.undone_ops = 0;

	for (size_t b = 0; b < NODE_BUCKETS; b++)
	{
		while (nodes[b] != NULL)
		{
			Node	   *node = nodes[b];
			CutPlan		plan = {opts, NULL, 0, 0, false};
			uint64_t	kept;

			plan.seqs = node_writes(node, &plan.nseqs);
			if (opts->tear != 0 && node->last_len > 0)
			{
				off_t		lo = node->last_off,
							hi = node->last_off + (off_t) node->last_len;
				off_t		first = (lo / opts->tear + 1) * opts->tear;
				off_t		count = first < hi ? (hi - 1 - first) / opts->tear + 1 : 0;
				uint64_t	r = cut_random(&plan, node->ino, node->last_seq);

				if (count > 0)
				{
					char		proc[64];
					char		name[PATH_MAX];
					ssize_t		len;

					plan.tear_at = first + (off_t) (r % (uint64_t) count) * opts->tear;
					stats.torn_writes++;
					snprintf(proc, sizeof(proc), "/proc/self/fd/%d", node->fd);
					len = readlink(proc, name, sizeof(name) - 1);
					name[len < 0 ? 0 : len] = '\0';
					note("tearing the write of %zu bytes at %lld of %s at %lld",
						 node->last_len, (long long) node->last_off, name,
						 (long long) plan.tear_at);
				}
				else
					plan.last_kept = (r & 1) != 0;
			}
			kept = kept_writes(node, &plan);
			stats.kept_writes += kept;
			stats.dropped_writes += plan.nseqs - kept;
			if ((opts->keep_pct > 0 || opts->tear != 0) &&
				node_apply(node, cut_keep, &plan) != 0)
				stats.apply_errors++;
			free(plan.seqs);
			node_free(node);
		}
	}
	while (ops_newest != NULL)
	{
		Op		   *op = ops_newest;

		op_undo(op);
		stats.undone_ops++;
		/* what it removed is back in place (or gone with its creation) */
		free(op->trash1);
		free(op->trash2);
		op->trash1 = op->trash2 = NULL;
		op_unlink_free(op);
	}
	note("power cut (seed %" PRIu64 "): %" PRIu64 " writes dropped, %" PRIu64
		 " kept, %" PRIu64 " torn, %" PRIu64 " name changes undone",
		 opts->seed, stats.dropped_writes, stats.kept_writes,
		 stats.torn_writes, stats.undone_ops);
}

static void
sync_all(void)
{
	for (size_t b = 0; b < NODE_BUCKETS; b++)
	{
		while (nodes[b] != NULL)
		{
			if (node_apply(nodes[b], NULL, NULL) != 0)
				stats.apply_errors++;
			node_free(nodes[b]);
		}
	}
	while (ops_oldest != NULL)
		op_commit(ops_oldest);
}

/* ------------------------------------------------------------ control file */

static int
ctl_text(char *buf, size_t len)
{
	uint64_t	files = 0,
				writes = 0,
				bytes = 0,
				ops = 0;

	for (size_t b = 0; b < NODE_BUCKETS; b++)
	{
		for (Node *n = nodes[b]; n != NULL; n = n->next)
		{
			size_t		nseqs;

			files++;
			bytes += (uint64_t) n->n * SECTOR;
			free(node_writes(n, &nseqs));
			writes += nseqs;
		}
	}
	for (Op *op = ops_oldest; op != NULL; op = op->next)
		ops++;
	return snprintf(buf, len,
					"unsynced_files %" PRIu64 "\n"
					"unsynced_writes %" PRIu64 "\n"
					"unsynced_bytes %" PRIu64 "\n"
					"unsynced_name_changes %" PRIu64 "\n"
					"writes %" PRIu64 "\n"
					"fsyncs %" PRIu64 "\n"
					"dir_fsyncs %" PRIu64 "\n"
					"cuts %" PRIu64 "\n"
					"last_cut_seed %" PRIu64 "\n"
					"last_cut_dropped_writes %" PRIu64 "\n"
					"last_cut_kept_writes %" PRIu64 "\n"
					"last_cut_torn_writes %" PRIu64 "\n"
					"last_cut_undone_name_changes %" PRIu64 "\n"
					"undo_errors %" PRIu64 "\n"
					"apply_errors %" PRIu64 "\n",
					files, writes, bytes, ops, stats.writes, stats.fsyncs,
					stats.dir_fsyncs, stats.cuts, stats.seed,
					stats.dropped_writes, stats.kept_writes,
					stats.torn_writes, stats.undone_ops, stats.undo_errors,
					stats.apply_errors);
}

static int
ctl_command(const char *buf, size_t size)
{
	char		cmd[512];
	char	   *save = NULL;
	char	   *word;
	CutOpts		opts = {0, 0, 0};

	if (size >= sizeof(cmd))
		return -EINVAL;
	memcpy(cmd, buf, size);
	cmd[size] = '\0';
	word = strtok_r(cmd, " \t\n", &save);
	if (word == NULL)
		return 0;
	if (strcmp(word, "sync") == 0)
	{
		sync_all();
		return 0;
	}
	if (strcmp(word, "cut") != 0)
	{
		note("unknown command \"%s\" (cut, sync)", word);
		return -EINVAL;
	}
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opts.seed = mix64((uint64_t) ts.tv_sec * 1000000007ULL + (uint64_t) ts.tv_nsec);
	}
	while ((word = strtok_r(NULL, " \t\n", &save)) != NULL)
	{
		char	   *end;
		unsigned long long v;

		if (strncmp(word, "tear=", 5) == 0)
		{
			v = strtoull(word + 5, &end, 10);
			if (*end != '\0' || (v != 512 && v != 4096))
			{
				note("tear must be 512 or 4096, not \"%s\"", word + 5);
				return -EINVAL;
			}
			opts.tear = (int) v;
		}
		else if (strncmp(word, "keep=", 5) == 0)
		{
			v = strtoull(word + 5, &end, 10);
			if (*end != '\0' || v > 100)
			{
				note("keep must be a percentage, not \"%s\"", word + 5);
				return -EINVAL;
			}
			opts.keep_pct = (int) v;
		}
		else if (strncmp(word, "seed=", 5) == 0)
		{
			v = strtoull(word + 5, &end, 10);
			if (*end != '\0')
			{
				note("seed must be a number, not \"%s\"", word + 5);
				return -EINVAL;
			}
			opts.seed = v;
		}
		else
		{
			note("unknown cut option \"%s\" (tear=, keep=, seed=)", word);
			return -EINVAL;
		}
	}
	cut(&opts);
	return 0;
}

/* ------------------------------------------------------------ operations */

static void *
cutfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->hard_remove = 1;		/* no .fuse_hidden renames: unlink is ours */
	cfg->nullpath_ok = 1;
	cfg->use_ino = 1;
	return NULL;
}

static int
cutfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	Node	   *node;
	int			rc;

	if (is_ctl(path) || (fi != NULL && fi->fh == CTL_FH))
	{
		char		text[2048];

		memset(st, 0, sizeof(*st));
		st->st_mode = S_IFREG | 0600;
		st->st_nlink = 1;
		st->st_uid = getuid();
		st->st_gid = getgid();
		st->st_size = ctl_text(text, sizeof(text));
		return 0;
	}
	if (is_hidden(path))
		return -ENOENT;
	if (fi != NULL && fi->fh != CTL_FH)
		rc = fstat((int) fi->fh, st);
	else if (path != NULL)
		rc = fstatat(backing_fd, rel(path), st, AT_SYMLINK_NOFOLLOW);
	else
		return -EBADF;
	if (rc < 0)
		return -errno;
	if (S_ISREG(st->st_mode) && (node = node_find(st->st_ino)) != NULL)
	{
		st->st_size = node->size;
		st->st_blocks = (node->size + 511) / 512;
	}
	return 0;
}

static int
cutfs_access(const char *path, int mask)
{
	if (is_ctl(path))
		return 0;
	if (is_hidden(path))
		return -ENOENT;
	return faccessat(backing_fd, rel(path), mask, 0) < 0 ? -errno : 0;
}

static int
cutfs_readlink(const char *path, char *buf, size_t size)
{
	ssize_t		n;

	if (is_hidden(path))
		return -ENOENT;
	n = readlinkat(backing_fd, rel(path), buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int
cutfs_opendir(const char *path, struct fuse_file_info *fi)
{
	int			fd;

	if (is_hidden(path))
		return -ENOENT;
	fd = openat(backing_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t) fd;
	return 0;
}

static int
cutfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
			  struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	int			fd = dup((int) fi->fh);
	struct stat dst;
	bool		root;
	DIR		   *dir;
	struct dirent *e;

	if (fd < 0)
		return -errno;
	root = fstat(fd, &dst) == 0 && dst.st_ino == backing_ino;
	if ((dir = fdopendir(fd)) == NULL)
	{
		close(fd);
		return -errno;
	}
	rewinddir(dir);
	while ((e = readdir(dir)) != NULL)
	{
		struct stat st;

		if (root && strcmp(e->d_name, TRASH_NAME) == 0)
			continue;
		memset(&st, 0, sizeof(st));
		st.st_ino = e->d_ino;
		st.st_mode = (mode_t) DTTOIF(e->d_type);
		if (filler(buf, e->d_name, &st, 0, 0))
			break;
	}
	closedir(dir);
	return 0;
}

static int
cutfs_releasedir(const char *path, struct fuse_file_info *fi)
{
	close((int) fi->fh);
	return 0;
}

static int
cutfs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct stat st;

	if (fstat((int) fi->fh, &st) < 0 || fsync((int) fi->fh) < 0)
		return -errno;
	stats.dir_fsyncs++;
	ops_dir_synced(st.st_ino);
	return 0;
}

static int
cutfs_mkdir(const char *path, mode_t mode)
{
	Op		   *op;
	int			rc;

	if (is_hidden(path) || is_ctl(path))
		return -EEXIST;
	if (mkdirat(backing_fd, rel(path), mode) < 0)
		return -errno;
	if ((rc = op_record(OP_MKDIR, path, NULL, &op)) != 0)
		note("mkdir of \"%s\" is not undoable: %s", path, strerror(-rc));
	return 0;
}

/* is at/name an empty directory? (false if it cannot be read) */
static bool
dir_empty(int at, const char *name)
{
	int			fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR		   *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	bool		empty = true;

	if (dir == NULL)
	{
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (empty && (e = readdir(dir)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(dir);
	return empty;
}

/* unlink and rmdir: the name goes to the trash until its directory syncs */
static int
remove_name(const char *path, OpKind kind)
{
	Op		   *op;
	struct stat st;
	int			rc;

	if (is_hidden(path) || is_ctl(path))
		return -EPERM;
	if (fstatat(backing_fd, rel(path), &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (kind == OP_RMDIR && !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (kind == OP_UNLINK && S_ISDIR(st.st_mode))
		return -EISDIR;
	/* refuse a directory that is not empty, as rmdir(2) does */
	if (kind == OP_RMDIR && !dir_empty(backing_fd, rel(path)))
		return -ENOTEMPTY;
	if ((rc = op_record(kind, path, NULL, &op)) != 0)
		return rc;
	if ((rc = to_trash(op->dir1->fd, op->name1, &op->trash1)) != 0)
	{
		op_unlink_free(op);
		return rc;
	}
	op->trash_ino1 = st.st_ino;
	if (kind == OP_UNLINK)
		node_forget_if_gone(st.st_ino);
	return 0;
}

static int
cutfs_unlink(const char *path)
{
	return remove_name(path, OP_UNLINK);
}

static int
cutfs_rmdir(const char *path)
{
	return remove_name(path, OP_RMDIR);
}

static int
cutfs_symlink(const char *target, const char *path)
{
	Op		   *op;
	int			rc;

	if (is_hidden(path) || is_ctl(path))
		return -EEXIST;
	if (symlinkat(target, backing_fd, rel(path)) < 0)
		return -errno;
	if ((rc = op_record(OP_CREATE, path, NULL, &op)) != 0)
		note("symlink \"%s\" is not undoable: %s", path, strerror(-rc));
	return 0;
}

static int
cutfs_link(const char *from, const char *to)
{
	Op		   *op;
	int			rc;

	if (is_hidden(from) || is_hidden(to) || is_ctl(from) || is_ctl(to))
		return -EPERM;
	if (linkat(backing_fd, rel(from), backing_fd, rel(to), 0) < 0)
		return -errno;
	if ((rc = op_record(OP_LINK, to, NULL, &op)) != 0)
		note("link \"%s\" is not undoable: %s", to, strerror(-rc));
	return 0;
}

static int
cutfs_rename(const char *from, const char *to, unsigned int flags)
{
	Op		   *op;
	struct stat st;
	int			rc;

	if (is_hidden(from) || is_hidden(to) || is_ctl(from) || is_ctl(to))
		return -EPERM;
	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;			/* RENAME_EXCHANGE, RENAME_WHITEOUT */
	if (fstatat(backing_fd, rel(from), &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if ((rc = op_record(OP_RENAME, from, to, &op)) != 0)
		return rc;
	if (fstatat(op->dir2->fd, op->name2, &st, AT_SYMLINK_NOFOLLOW) == 0)
	{
		/* the name replaced goes to the trash, so the rename can be undone */
		if (flags & RENAME_NOREPLACE)
			rc = -EEXIST;
		else if (S_ISDIR(st.st_mode) && !dir_empty(op->dir2->fd, op->name2))
			rc = -ENOTEMPTY;	/* as rename(2): only an empty one goes */
		else
			rc = to_trash(op->dir2->fd, op->name2, &op->trash2);
	}
	if (rc == 0 && renameat(op->dir1->fd, op->name1, op->dir2->fd, op->name2) < 0)
	{
		rc = -errno;
		if (op->trash2 != NULL)
			renameat(trash_fd, op->trash2, op->dir2->fd, op->name2);
	}
	if (rc != 0)
	{
		free(op->trash2);
		op->trash2 = NULL;
		op_unlink_free(op);
	}
	return rc;
}

static int
cutfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	if (is_ctl(path) || (fi != NULL && fi->fh == CTL_FH))
		return 0;
	if (fi != NULL)
		return fchmod((int) fi->fh, mode) < 0 ? -errno : 0;
	if (is_hidden(path))
		return -ENOENT;
	return fchmodat(backing_fd, rel(path), mode, 0) < 0 ? -errno : 0;
}

static int
cutfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	if (is_ctl(path) || (fi != NULL && fi->fh == CTL_FH))
		return 0;
	if (fi != NULL)
		return fchown((int) fi->fh, uid, gid) < 0 ? -errno : 0;
	if (is_hidden(path))
		return -ENOENT;
	return fchownat(backing_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int
cutfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	if (is_ctl(path) || (fi != NULL && fi->fh == CTL_FH))
		return 0;
	if (fi != NULL)
		return futimens((int) fi->fh, tv) < 0 ? -errno : 0;
	if (is_hidden(path))
		return -ENOENT;
	return utimensat(backing_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* a descriptor of the backing file: the open one, or one opened for this */
static int
file_fd(const char *path, struct fuse_file_info *fi, bool *opened)
{
	int			fd;

	*opened = false;
	if (fi != NULL)
		return (int) fi->fh;
	if (path == NULL || is_hidden(path))
		return -ENOENT;
	fd = openat(backing_fd, rel(path), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*opened = true;
	return fd;
}

static int
cutfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	Node	   *node;
	bool		opened;
	int			fd,
				rc;

	if (is_ctl(path) && fi == NULL)
		return 0;
	if (fi != NULL && fi->fh == CTL_FH)
		return 0;
	if ((fd = file_fd(path, fi, &opened)) < 0)
		return fd;
	if ((rc = node_get(fd, &node)) == 0)
		node_set_size(node, size);
	if (opened)
		close(fd);
	return rc;
}

static int
open_common(const char *path, int flags, mode_t mode, bool create,
			struct fuse_file_info *fi)
{
	int			bflags = (flags & ~(O_TRUNC | O_APPEND | O_CREAT | O_EXCL)) | O_CLOEXEC;
	struct stat st;
	bool		existed;
	int			fd;

	if (is_ctl(path))
	{
		fi->fh = CTL_FH;
		fi->direct_io = 1;
		return 0;
	}
	if (is_hidden(path))
		return create ? -EPERM : -ENOENT;
	existed = fstatat(backing_fd, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (create && existed && (flags & O_EXCL))
		return -EEXIST;
	fd = openat(backing_fd, rel(path), bflags | (create && !existed ? O_CREAT | O_EXCL : 0),
				mode);
	if (fd < 0)
		return -errno;
	if (create && !existed)
	{
		Op		   *op;
		int			rc = op_record(OP_CREATE, path, NULL, &op);

		if (rc != 0)
			note("creation of \"%s\" is not undoable: %s", path, strerror(-rc));
	}
	if ((flags & O_TRUNC) && existed)
	{
		Node	   *node;
		int			rc = node_get(fd, &node);

		if (rc != 0)
		{
			close(fd);
			return rc;
		}
		node_set_size(node, 0);
	}
	if (fstat(fd, &st) == 0)
		opens_add(st.st_ino, 1);
	fi->fh = (uint64_t) fd;
	fi->direct_io = 1;
	return 0;
}

static int
cutfs_open(const char *path, struct fuse_file_info *fi)
{
	return open_common(path, fi->flags, 0, false, fi);
}

static int
cutfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return open_common(path, fi->flags, mode, true, fi);
}

static int
cutfs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	Node	   *node;
	ssize_t		n;

	if (fi->fh == CTL_FH)
	{
		char		text[2048];
		int			len = ctl_text(text, sizeof(text));

		if (off >= len)
			return 0;
		n = Min_off(len - off, (off_t) size);
		memcpy(buf, text + off, (size_t) n);
		return (int) n;
	}
	if ((node = node_find_fd((int) fi->fh)) != NULL)
		return (int) node_read(node, buf, size, off);
	n = pread((int) fi->fh, buf, size, off);
	return n < 0 ? -errno : (int) n;
}

static int
cutfs_write(const char *path, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	Node	   *node;
	int			rc;

	if (fi->fh == CTL_FH)
	{
		rc = ctl_command(buf, size);
		return rc < 0 ? rc : (int) size;
	}
	if ((rc = node_get((int) fi->fh, &node)) != 0 ||
		(rc = node_write(node, buf, size, off)) != 0)
		return rc;
	return (int) size;
}

static int
cutfs_fallocate(const char *path, int mode, off_t off, off_t len,
				struct fuse_file_info *fi)
{
	Node	   *node;
	int			rc;

	if (mode != 0)
		return -EOPNOTSUPP;
	if (fi == NULL || fi->fh == CTL_FH)
		return -EBADF;
	if ((rc = node_get((int) fi->fh, &node)) != 0)
		return rc;
	if (off + len > node->size)
		node_set_size(node, off + len);
	return 0;
}

static int
cutfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	Node	   *node;
	int			rc = 0;

	if (fi->fh == CTL_FH)
		return 0;
	stats.fsyncs++;
	if ((node = node_find_fd((int) fi->fh)) == NULL)
		return fsync((int) fi->fh) < 0 ? -errno : 0;
	rc = node_apply(node, NULL, NULL);
	if (rc == 0)
		node_free(node);
	return rc;
}

static int
cutfs_flush(const char *path, struct fuse_file_info *fi)
{
	return 0;					/* close(2) makes nothing durable */
}

static int
cutfs_release(const char *path, struct fuse_file_info *fi)
{
	struct stat st;

	if (fi->fh == CTL_FH)
		return 0;
	if (fstat((int) fi->fh, &st) == 0)
	{
		opens_add(st.st_ino, -1);
		node_forget_if_gone(st.st_ino);
	}
	close((int) fi->fh);
	return 0;
}

static int
cutfs_statfs(const char *path, struct statvfs *st)
{
	return fstatvfs(backing_fd, st) < 0 ? -errno : 0;
}

static const struct fuse_operations cutfs_ops = {
	.init = cutfs_init,
	.getattr = cutfs_getattr,
	.access = cutfs_access,
	.readlink = cutfs_readlink,
	.opendir = cutfs_opendir,
	.readdir = cutfs_readdir,
	.releasedir = cutfs_releasedir,
	.fsyncdir = cutfs_fsyncdir,
	.mkdir = cutfs_mkdir,
	.unlink = cutfs_unlink,
	.rmdir = cutfs_rmdir,
	.symlink = cutfs_symlink,
	.link = cutfs_link,
	.rename = cutfs_rename,
	.chmod = cutfs_chmod,
	.chown = cutfs_chown,
	.utimens = cutfs_utimens,
	.truncate = cutfs_truncate,
	.open = cutfs_open,
	.create = cutfs_create,
	.read = cutfs_read,
	.write = cutfs_write,
	.fallocate = cutfs_fallocate,
	.fsync = cutfs_fsync,
	.flush = cutfs_flush,
	.release = cutfs_release,
	.statfs = cutfs_statfs,
};

int
main(int argc, char **argv)
{
	char	  **args;
	int			nargs = 0;

	if (argc < 3 || argv[1][0] == '-')
	{
		fprintf(stderr,
				"usage: %s BACKING_DIR MOUNTPOINT [-f] [-o option,...]\n"
				"control: echo 'cut [tear=512|4096] [keep=PCT] [seed=N]' > MOUNTPOINT/" CTL_NAME "\n"
				"         echo sync > MOUNTPOINT/" CTL_NAME "; cat MOUNTPOINT/" CTL_NAME "\n",
				argv[0]);
		return 2;
	}
	/*
	 * Every file a program holds open here is a descriptor of ours too,
	 * and so is every file with unsynced data: the soft limit (often
	 * 1024) is too low for a PostgreSQL data directory.
	 */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
		{
			rl.rlim_cur = rl.rlim_max;
			(void) setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	backing_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (backing_fd < 0)
	{
		fprintf(stderr, "cutfs: could not open backing directory \"%s\": %s\n",
				argv[1], strerror(errno));
		return 1;
	}
	{
		struct stat st;

		if (fstat(backing_fd, &st) < 0)
		{
			fprintf(stderr, "cutfs: could not stat \"%s\": %s\n", argv[1], strerror(errno));
			return 1;
		}
		backing_ino = st.st_ino;
	}
	/* a trash left by an earlier run holds names whose removal was durable */
	if (fstatat(backing_fd, TRASH_NAME, &(struct stat) {0}, 0) == 0)
		remove_tree(backing_fd, TRASH_NAME);
	if (mkdirat(backing_fd, TRASH_NAME, 0700) < 0 ||
		(trash_fd = openat(backing_fd, TRASH_NAME, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	{
		fprintf(stderr, "cutfs: could not make \"%s/%s\": %s\n", argv[1], TRASH_NAME,
				strerror(errno));
		return 1;
	}
	/* fuse_main gets: program, mount point, -s (one thread), the rest */
	args = xmalloc(sizeof(char *) * (size_t) (argc + 3));
	args[nargs++] = argv[0];
	args[nargs++] = argv[2];
	args[nargs++] = "-s";
	for (int i = 3; i < argc; i++)
		args[nargs++] = argv[i];
	args[nargs] = NULL;
	return fuse_main(nargs, args, &cutfs_ops, NULL);
}

/*-------------------------------------------------------------------------
 *
 * space.c
 *	  Tablespaces of bufpool_ext: registry and page files.
 *
 * A space is one file $PGDATA/bufpool_ext/<space_id>.bps of size_pages
 * pages, created sparse and mode 0600 in a directory of mode 0700, also
 * when the data directory allows group access.  Files are named by id, never by
 * the user's name, so no name can reach outside the directory; ids are
 * never reused, so a page of a dropped space left in some process's
 * hands can never be mistaken for a page of a new space.
 *
 * The registry (id, name, size, state) lives in BpShared->spaces under
 * space_lock and on disk in bufpool_ext/spaces.map, rewritten through a
 * temporary file and durable_rename on every change and loaded by the
 * pool manager before the pool is READY.  It also carries the page size
 * the files were made with and the LSN high-water mark at the last save.
 *
 * A compressed space (compression lz4 or zstd, key_block_size bytes a
 * page, pagezip.c) keeps page p as a compressed image in the slot at
 * p * key_block_size of its file, and a page whose image does not fit,
 * whole, at p * page_size of a second, sparse file <space_id>.bpo (the
 * overflow file), its slot then holding only a header that says so.  The
 * overflow copy is written before the slot that points to it.  Reads and
 * writes here see pages, never slots: bp_space_read decompresses,
 * bp_space_write_prepared compresses, so the pool, the doublewrite
 * buffer and recovery work on whole pages for every space.
 *
 * Dropping a space marks it DROPPING (new reads fail), discards its
 * pages from the pool, then unlinks the file; a drop interrupted by a
 * crash is finished at the next start.
 *
 * Each process keeps its own small cache of open files (fd.c virtual
 * file descriptors), and the set of spaces it wrote since its last sync.
 *
 * Loading and saving the registry build their copy of the entries in a
 * local arena (src/mmgr/arena.c) made for the call and destroyed at its end,
 * or by the memory context's reset callback after an ERROR.
 *
 * IDENTIFICATION
 *	  src/storage/space.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_perm.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_crc32c.h"
#include "port/pg_iovec.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "bufpool_ext/mmgr/arena.h"
#include "bufpool_ext/base/clock.h"
#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/storage/pagezip.h"
#include "bufpool_ext/storage/space.h"

#define BP_REGISTRY_MAGIC	0x42505352	/* "BPSR" */
#define BP_REGISTRY_VERSION	3	/* 2: a creation identity; 3: compression */
#define BP_MAX_SPACE_PAGES	((int64) 0x7FFFFFFF)
#define BP_FD_CACHE			64
#define BP_REGISTRY_ARENA_BLOCK	8192

uint64		(*bp_space_lsn_source) (void) = NULL;

typedef struct BpRegistryHeader
{
	uint32		magic;
	uint32		version;
	uint32		page_size;
	uint32		next_space_id;
	uint32		n_entries;
	uint32		pad;
	uint64		max_lsn;
} BpRegistryHeader;

/* an entry of a version-1 registry, read once and saved as version 2 */
typedef struct BpRegistryEntryV1
{
	uint32		space_id;
	uint32		state;
	uint64		size_pages;
	char		name[NAMEDATALEN];
} BpRegistryEntryV1;

typedef struct BpFdCacheEntry
{
	uint64		key;			/* space id, | BP_FD_OVERFLOW for its overflow file */
	File		file;
} BpFdCacheEntry;

static BpFdCacheEntry fd_cache[BP_FD_CACHE];
static int	fd_cache_next = 0;
static uint32 pending_sync[BP_FD_CACHE];
static bool pending_overflow[BP_FD_CACHE];	/* its overflow file was written too */
static int	n_pending_sync = 0;

void
bp_space_path(uint32 space_id, char *path, size_t len)
{
	snprintf(path, len, "%s/%u.bps", BP_DIR, space_id);
}

/* The overflow file of a compressed space. */
static void
bp_space_overflow_path(uint32 space_id, char *path, size_t len)
{
	snprintf(path, len, "%s/%u.bpo", BP_DIR, space_id);
}

/* The path of a space's file, or with overflow of its overflow file. */
static void
bp_space_kind_path(uint32 space_id, bool overflow, char *path, size_t len)
{
	if (overflow)
		bp_space_overflow_path(space_id, path, len);
	else
		bp_space_path(space_id, path, len);
}

/* Remove a space's files (the overflow file may not exist); false on failure. */
static bool
bp_space_unlink_files(uint32 space_id, char *path, size_t len)
{
	bp_space_overflow_path(space_id, path, len);
	if (unlink(path) < 0 && errno != ENOENT)
		return false;
	bp_space_path(space_id, path, len);
	return unlink(path) == 0 || errno == ENOENT;
}

/* A space's creation identity: random, never 0. */
static uint64
bp_space_new_identity(void)
{
	uint64		id = 0;

	while (id == 0)
		if (!pg_strong_random(&id, sizeof(id)))
			id = (uint64) GetCurrentTimestamp() ^ ((uint64) MyProcPid << 32);
	return id;
}

/*
 * Write a file whole and durably: parts[0 .. n_parts-1], then the CRC-32C
 * of all of them, to path.tmp, fsynced, then renamed over path with
 * durable_rename.  A crash leaves the old file or the new one, never a
 * part.  fault_point, if not NULL, is reached once the temporary file is
 * written and fsynced (a test may stop the writer there).  ERROR on any
 * failure (the old file is kept).  The space registry and the
 * warm-restart dump (src/pool/warm.c) are written this way.
 */
void
bp_file_write_checksummed(const char *path, const BpFilePart *parts, int n_parts,
						  const char *fault_point)
{
	char		tmp[MAXPGPATH];
	pg_crc32c	crc;
	int			fd;
	int			i;

	INIT_CRC32C(crc);
	for (i = 0; i < n_parts; i++)
		COMP_CRC32C(crc, parts[i].data, parts[i].len);
	FIN_CRC32C(crc);

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = OpenTransientFilePerm(tmp, O_RDWR | O_CREAT | O_TRUNC | PG_BINARY, S_IRUSR | S_IWUSR);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", tmp)));
	for (i = 0; i <= n_parts; i++)
	{
		const char *p = i < n_parts ? parts[i].data : (const char *) &crc;
		Size		len = i < n_parts ? parts[i].len : sizeof(crc);

		while (len > 0)
		{
			ssize_t		w;

			errno = 0;
			w = write(fd, p, Min(len, (Size) 1 << 20));
			if (w <= 0)
			{
				if (errno == 0)
					errno = ENOSPC;
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not write file \"%s\": %m", tmp)));
			}
			p += w;
			len -= w;
		}
	}
	if (pg_fsync(fd) != 0)
		ereport(data_sync_elevel(ERROR),
				(errcode_for_file_access(),
				 errmsg("could not fsync file \"%s\": %m", tmp)));
	CloseTransientFile(fd);
	if (fault_point != NULL)
		(void) BP_FAULT(fault_point, NULL);
	durable_rename(tmp, path, ERROR);
}

/*
 * Write the registry.  Caller holds space_lock exclusively (or is the
 * pool manager before the pool is READY).
 */
void
bp_space_save_registry(void)
{
	BpRegistryHeader hdr;
	BpSpaceEntry *entries;
	BpFilePart	parts[2];
	int			n = 0;
	int			i;
	BpArena    *arena = bp_arena_create_scoped("space_registry", BP_REGISTRY_ARENA_BLOCK);

	entries = bp_arena_alloc(arena, sizeof(BpSpaceEntry) * BP_MAX_SPACES);
	for (i = 0; i < BP_MAX_SPACES; i++)
		if (BpShmem->spaces[i].state != BP_SPACE_UNUSED)
			entries[n++] = BpShmem->spaces[i];
	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = BP_REGISTRY_MAGIC;
	hdr.version = BP_REGISTRY_VERSION;
	hdr.page_size = BpShmem->page_size;
	hdr.next_space_id = BpShmem->next_space_id;
	hdr.n_entries = n;
	hdr.max_lsn = pg_atomic_read_u64(&BpShmem->next_lsn);
	if (bp_space_lsn_source)
		hdr.max_lsn = Max(hdr.max_lsn, bp_space_lsn_source());
	parts[0].data = &hdr;
	parts[0].len = sizeof(hdr);
	parts[1].data = entries;
	parts[1].len = sizeof(BpSpaceEntry) * n;
	bp_file_write_checksummed(BP_REGISTRY_FILE, parts, 2, NULL);
	bp_arena_destroy(arena);
}

/*
 * Load the registry at pool start (pool manager, before READY).  Creates
 * the directory on first use and finishes drops cut short by a crash.
 */
void
bp_space_load_registry(void)
{
	BpRegistryHeader hdr;
	BpSpaceEntry *entries = NULL;
	pg_crc32c	crc,
				stored;
	int			fd;
	uint32		i;
	bool		changed = false;
	BpArena    *arena;
	Size		entry_size;
	char	   *raw;

	/*
	 * Owner only, like the files in it (0600), even when the data
	 * directory allows group access; a directory made by an earlier
	 * version with the data directory's mode is narrowed.
	 */
	if (mkdir(BP_DIR, S_IRWXU) < 0)
	{
		struct stat st;

		if (errno != EEXIST)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create directory \"%s\": %m", BP_DIR)));
		if (stat(BP_DIR, &st) < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat directory \"%s\": %m", BP_DIR)));
		if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0 && chmod(BP_DIR, S_IRWXU) < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not change the mode of directory \"%s\": %m", BP_DIR)));
	}

	/*
	 * The directory's entry in the data directory must be durable before
	 * anything made in it is: without this, a power cut after the first
	 * start could take the directory, and every space and log in it, away
	 * (TAP 023_first_start_power_cut).  Every start does it, as a crash
	 * may have come between the mkdir and the fsync.
	 */
	fsync_fname(BP_DIR, true);
	fsync_fname(".", true);

	memset(BpShmem->spaces, 0, sizeof(BpShmem->spaces));
	BpShmem->next_space_id = 1;

	fd = OpenTransientFile(BP_REGISTRY_FILE, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		if (errno == ENOENT)
		{
			bp_space_save_registry();
			return;
		}
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", BP_REGISTRY_FILE)));
	}
	if (read(fd, &hdr, sizeof(hdr)) != sizeof(hdr) ||
		hdr.magic != BP_REGISTRY_MAGIC ||
		(hdr.version != BP_REGISTRY_VERSION && hdr.version != 1 && hdr.version != 2) ||
		hdr.n_entries > BP_MAX_SPACES)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file \"%s\" is not a bufpool_ext space registry", BP_REGISTRY_FILE)));
	arena = bp_arena_create_scoped("space_registry", BP_REGISTRY_ARENA_BLOCK);
	entries = bp_arena_alloc(arena, sizeof(BpSpaceEntry) * Max(hdr.n_entries, 1));
	entry_size = hdr.version == 1 ? sizeof(BpRegistryEntryV1) :
		hdr.version == 2 ? BP_SPACE_ENTRY_V2_SIZE : sizeof(BpSpaceEntry);
	raw = bp_arena_alloc(arena, entry_size * Max(hdr.n_entries, 1));
	if (read(fd, raw, entry_size * hdr.n_entries) != (ssize_t) (entry_size * hdr.n_entries) ||
		read(fd, &stored, sizeof(stored)) != sizeof(stored))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file \"%s\" is truncated", BP_REGISTRY_FILE)));
	CloseTransientFile(fd);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &hdr, sizeof(hdr));
	COMP_CRC32C(crc, raw, entry_size * hdr.n_entries);
	FIN_CRC32C(crc);
	if (hdr.version == 1)
	{
		/* spaces made before identities: give them one, save as version 2 */
		for (i = 0; i < hdr.n_entries; i++)
		{
			BpRegistryEntryV1 *v1 = &((BpRegistryEntryV1 *) raw)[i];

			memset(&entries[i], 0, sizeof(BpSpaceEntry));
			entries[i].space_id = v1->space_id;
			entries[i].state = v1->state;
			entries[i].size_pages = v1->size_pages;
			memcpy(entries[i].name, v1->name, NAMEDATALEN);
			entries[i].identity = bp_space_new_identity();
		}
		changed = true;
	}
	else if (hdr.version == 2)
	{
		/* spaces made before compression: uncompressed, save as version 3 */
		for (i = 0; i < hdr.n_entries; i++)
		{
			memset(&entries[i], 0, sizeof(BpSpaceEntry));
			memcpy(&entries[i], raw + i * entry_size, entry_size);
		}
		changed = true;
	}
	else
		memcpy(entries, raw, sizeof(BpSpaceEntry) * hdr.n_entries);
	if (crc != stored)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("checksum mismatch in file \"%s\"", BP_REGISTRY_FILE)));
	if (hdr.n_entries > 0 && hdr.page_size != (uint32) BpShmem->page_size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_ext.page_size is %d but the existing spaces use pages of %u bytes",
						BpShmem->page_size, hdr.page_size),
				 errhint("Set bufpool_ext.page_size = %u, or drop the spaces first.", hdr.page_size)));

	BpShmem->next_space_id = hdr.next_space_id;
	if (pg_atomic_read_u64(&BpShmem->next_lsn) < hdr.max_lsn)
		pg_atomic_write_u64(&BpShmem->next_lsn, hdr.max_lsn);
	for (i = 0; i < hdr.n_entries; i++)
	{
		BpSpaceEntry *e = &entries[i];

		if (e->state == BP_SPACE_DROPPING)
		{
			char		path[MAXPGPATH];

			if (!bp_space_unlink_files(e->space_id, path, sizeof(path)))
				ereport(WARNING,
						(errcode_for_file_access(),
						 errmsg("could not remove file \"%s\": %m", path)));
			changed = true;
			continue;
		}
		e->name[NAMEDATALEN - 1] = '\0';
		BpShmem->spaces[i] = *e;
	}
	bp_arena_destroy(arena);
	if (changed)
		bp_space_save_registry();
}

/*
 * A space name as an error message shows it: at most NAMEDATALEN - 1
 * bytes (cut at a character boundary, "..." after), ASCII control
 * characters as \xNN, so a newline or a terminal escape in a bad name
 * cannot garble the message.  Palloc'd.
 */
static char *
bp_space_name_for_message(const char *name)
{
	size_t		len = strlen(name);
	int			shown = pg_mbcliplen(name, (int) len, NAMEDATALEN - 1);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < shown; i++)
	{
		unsigned char c = (unsigned char) name[i];

		if (c < 0x20 || c == 0x7F)
			appendStringInfo(&buf, "\\x%02X", c);
		else
			appendStringInfoChar(&buf, (char) c);
	}
	if ((size_t) shown < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * ERROR unless name is a valid space name: 1 to NAMEDATALEN - 1 bytes of
 * letters, digits, '_', '-' and '.', not starting with '.' or '-'.  Files
 * are named by space id, never by name, so this is not what keeps a
 * space inside $PGDATA/bufpool_ext; it keeps names printable, and
 * unsurprising in file listings and logs.  (A NUL cannot reach here:
 * text cannot hold one.)
 */
static void
bp_space_check_name(const char *name)
{
	size_t		len = strlen(name);
	const char *p;

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid bufpool space name \"\""),
				 errdetail("A space name has 1 to %d characters.", NAMEDATALEN - 1)));
	if (len >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("bufpool space name \"%s\" is too long", bp_space_name_for_message(name)),
				 errdetail("A space name has at most %d bytes; this one has %zu.",
						   NAMEDATALEN - 1, len)));
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid bufpool space name \"%s\"", bp_space_name_for_message(name)),
					 errdetail("A space name may contain only letters, digits, '_', '-' and '.'.")));
	if (name[0] == '.' || name[0] == '-')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid bufpool space name \"%s\"", name),
				 errdetail("A space name cannot start with '.' or '-'.")));
}

/*
 * Give the open space file fd (path) size_pages pages of unit bytes (a
 * page, or a compressed space's slot), fsynced, and close it.  On failure: close it, remove it if remove_on_error (a file being
 * created), and raise the error.
 */
static void
bp_space_size_file(int fd, const char *path, int64 size_pages, int unit, bool remove_on_error)
{
	if (ftruncate(fd, (off_t) size_pages * unit) < 0 || pg_fsync(fd) != 0)
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		if (remove_on_error)
			unlink(path);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not size file \"%s\" to %lld pages: %m", path, (long long) size_pages)));
	}
	CloseTransientFile(fd);
}

/* Create and size one file of a new space; ERROR (nothing left) on failure. */
static void
bp_space_make_file(const char *path, int64 size_pages, int unit)
{
	int			fd = OpenTransientFilePerm(path, O_RDWR | O_CREAT | O_EXCL | PG_BINARY,
										   S_IRUSR | S_IWUSR);

	if (fd < 0 && errno == EEXIST)
	{
		/*
		 * No registered space has this id (ids above the saved
		 * next_space_id were never registered), so the file is left from
		 * a create cut short by a crash before the registry was saved.
		 * Remove it and create it afresh, with our mode.
		 */
		ereport(LOG,
				(errmsg("removing file \"%s\" left by an interrupted bufpool space creation", path)));
		if (unlink(path) < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not remove file \"%s\": %m", path)));
		fd = OpenTransientFilePerm(path, O_RDWR | O_CREAT | O_EXCL | PG_BINARY, S_IRUSR | S_IWUSR);
	}
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", path)));
	bp_space_size_file(fd, path, size_pages, unit, true);
}

uint32
bp_space_create(const char *name, int64 size_pages)
{
	return bp_space_create_compressed(name, size_pages, BP_ZIP_NONE, 0);
}

/*
 * Create a space; compressed (lz4 or zstd) with key_block_size bytes a
 * page (1 kB .. half a page, a power of two), or not (BP_ZIP_NONE, 0).
 */
uint32
bp_space_create_compressed(const char *name, int64 size_pages, int compression, int key_block_size)
{
	char		path[MAXPGPATH];
	char		opath[MAXPGPATH];
	volatile int slot = -1;
	int			i;
	uint32		id;

	if (compression == BP_ZIP_NONE ? key_block_size != 0 :
		(compression != BP_ZIP_LZ4 && compression != BP_ZIP_ZSTD) ||
		key_block_size < BP_ZIP_MIN_BLOCK || key_block_size > BpShmem->page_size / 2 ||
		(key_block_size & (key_block_size - 1)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key_block_size %d for compression %s", key_block_size,
						bp_zip_algorithm_name(compression)),
				 errdetail("A compressed space's key_block_size is a power of two from %d to half the page size (%d); an uncompressed space has none.",
						   BP_ZIP_MIN_BLOCK, BpShmem->page_size / 2)));
	bp_space_check_name(name);
	if (size_pages < 1 || size_pages > BP_MAX_SPACE_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid space size %lld pages", (long long) size_pages),
				 errdetail("A space has 1 to %lld pages.", (long long) BP_MAX_SPACE_PAGES)));

	LWLockAcquire(&BpShmem->space_lock.lock, LW_EXCLUSIVE);
	for (i = 0; i < BP_MAX_SPACES; i++)
	{
		BpSpaceEntry *e = &BpShmem->spaces[i];

		if (e->state == BP_SPACE_UNUSED)
		{
			if (slot < 0)
				slot = i;
		}
		else if (strcmp(e->name, name) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("bufpool space \"%s\" already exists", name),
					 errdetail("It has space_id %u.", e->space_id)));
	}
	if (slot < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("cannot create bufpool space \"%s\": all %d space slots are in use", name, BP_MAX_SPACES),
				 errhint("Drop spaces that are no longer needed.")));

	id = BpShmem->next_space_id;
	bp_space_path(id, path, sizeof(path));
	bp_space_overflow_path(id, opath, sizeof(opath));
	bp_space_make_file(path, size_pages, key_block_size ? key_block_size : BpShmem->page_size);
	if (key_block_size)
	{
		PG_TRY();
		{
			bp_space_make_file(opath, size_pages, BpShmem->page_size);
		}
		PG_CATCH();
		{
			unlink(path);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	fsync_fname(BP_DIR, true);

	BpShmem->next_space_id = id + 1;
	BpShmem->spaces[slot].space_id = id;
	BpShmem->spaces[slot].size_pages = size_pages;
	strlcpy(BpShmem->spaces[slot].name, name, NAMEDATALEN);
	BpShmem->spaces[slot].identity = bp_space_new_identity();
	memset(&BpShmem->zip_by_space[slot], 0, sizeof(BpZipStats));
	pg_atomic_write_u32(&BpShmem->zip_overflow_seen[slot], 0);
	BpShmem->spaces[slot].compression = (uint32) compression;
	BpShmem->spaces[slot].key_block_size = (uint32) key_block_size;
	BpShmem->spaces[slot].state = BP_SPACE_ACTIVE;
	PG_TRY();
	{
		bp_space_save_registry();
	}
	PG_CATCH();
	{
		memset(&BpShmem->spaces[slot], 0, sizeof(BpSpaceEntry));
		unlink(path);
		unlink(opath);
		PG_RE_THROW();
	}
	PG_END_TRY();
	LWLockRelease(&BpShmem->space_lock.lock);
	return id;
}

static int
bp_space_slot(uint32 space_id)
{
	int			i;

	for (i = 0; i < BP_MAX_SPACES; i++)
		if (BpShmem->spaces[i].state != BP_SPACE_UNUSED &&
			BpShmem->spaces[i].space_id == space_id)
			return i;
	return -1;
}

/*
 * First step of dropping a space (the pool's bp_buf_drop_space runs all
 * three): mark it DROPPING, so that no new read of its pages starts.
 * ERROR if it does not exist.
 */
void
bp_space_mark_dropping(uint32 space_id)
{
	int			slot;

	LWLockAcquire(&BpShmem->space_lock.lock, LW_EXCLUSIVE);
	slot = bp_space_slot(space_id);
	if (slot < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bufpool space %u does not exist", space_id)));
	if (BpShmem->spaces[slot].state == BP_SPACE_ACTIVE)
	{
		BpShmem->spaces[slot].state = BP_SPACE_DROPPING;
		bp_space_save_registry();
	}
	LWLockRelease(&BpShmem->space_lock.lock);
}

/*
 * Last step of dropping a space, once the pool holds none of its pages:
 * remove its file and forget it.
 */
void
bp_space_remove(uint32 space_id)
{
	int			slot;
	char		path[MAXPGPATH];

	LWLockAcquire(&BpShmem->space_lock.lock, LW_EXCLUSIVE);
	slot = bp_space_slot(space_id);
	if (slot >= 0)
	{
		if (!bp_space_unlink_files(space_id, path, sizeof(path)))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not remove file \"%s\": %m", path)));
		memset(&BpShmem->spaces[slot], 0, sizeof(BpSpaceEntry));
		bp_space_save_registry();
	}
	LWLockRelease(&BpShmem->space_lock.lock);
}

/* The id of the ACTIVE space called name, or 0. */
uint32
bp_space_find(const char *name)
{
	uint32		id = 0;
	int			i;

	LWLockAcquire(&BpShmem->space_lock.lock, LW_SHARED);
	for (i = 0; i < BP_MAX_SPACES; i++)
		if (BpShmem->spaces[i].state == BP_SPACE_ACTIVE &&
			strcmp(BpShmem->spaces[i].name, name) == 0)
		{
			id = BpShmem->spaces[i].space_id;
			break;
		}
	LWLockRelease(&BpShmem->space_lock.lock);
	return id;
}

/* The page count of an ACTIVE space; ERROR if there is none. */
int64
bp_space_size(uint32 space_id)
{
	BpSpaceEntry e;

	if (!bp_space_lookup(space_id, &e))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bufpool space %u does not exist", space_id)));
	return e.size_pages;
}

/*
 * Give the space in slot a new size and save the registry; if that
 * fails, the old size stays (a longer file is harmless).  Caller holds
 * space_lock exclusively.
 */
static void
bp_space_set_size(int slot, int64 new_size)
{
	int64		old_size = BpShmem->spaces[slot].size_pages;

	BpShmem->spaces[slot].size_pages = new_size;
	PG_TRY();
	{
		bp_space_save_registry();
	}
	PG_CATCH();
	{
		BpShmem->spaces[slot].size_pages = old_size;
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * Add n_pages pages at the end of a space: the file grows (sparse: its
 * new pages read as new, zero pages), is fsynced, and the registry saved
 * with the new size before it is returned, so a redo record for a new
 * page always finds the page inside its space at recovery.
 */
int64
bp_space_extend(uint32 space_id, int64 n_pages)
{
	char		path[MAXPGPATH];
	int			slot;
	int			fd;
	int64		old_size;
	int64		new_size;
	int			kbs;
	int			i;

	LWLockAcquire(&BpShmem->space_lock.lock, LW_EXCLUSIVE);
	slot = bp_space_slot(space_id);
	if (slot < 0 || BpShmem->spaces[slot].state != BP_SPACE_ACTIVE)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bufpool space %u does not exist", space_id)));
	old_size = BpShmem->spaces[slot].size_pages;
	if (n_pages < 1 || n_pages > BP_MAX_SPACE_PAGES - old_size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot extend bufpool space %u by %lld pages", space_id, (long long) n_pages),
				 errdetail("It has %lld pages; a space has at most %lld.",
						   (long long) old_size, (long long) BP_MAX_SPACE_PAGES)));
	new_size = old_size + n_pages;
	kbs = (int) BpShmem->spaces[slot].key_block_size;
	for (i = kbs ? 0 : 1; i < 2; i++)
	{
		/* the overflow file first: a slot file never names pages it lacks */
		bp_space_kind_path(space_id, i == 0, path, sizeof(path));
		fd = OpenTransientFile(path, O_RDWR | PG_BINARY);
		if (fd < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open file \"%s\": %m", path)));
		bp_space_size_file(fd, path, new_size, i == 0 || kbs == 0 ? BpShmem->page_size : kbs, false);
	}
	bp_space_set_size(slot, new_size);
	LWLockRelease(&BpShmem->space_lock.lock);
	return new_size;
}

/* The registry slot of an ACTIVE space and a copy of its entry, or -1. */
static int
bp_space_lookup_slot(uint32 space_id, BpSpaceEntry *out)
{
	int			slot;

	LWLockAcquire(&BpShmem->space_lock.lock, LW_SHARED);
	slot = bp_space_slot(space_id);
	if (slot >= 0 && BpShmem->spaces[slot].state == BP_SPACE_ACTIVE)
		*out = BpShmem->spaces[slot];
	else
		slot = -1;
	LWLockRelease(&BpShmem->space_lock.lock);
	return slot;
}

/* Copy out the registry entry of an ACTIVE space. */
bool
bp_space_lookup(uint32 space_id, BpSpaceEntry *out)
{
	BpSpaceEntry e;

	if (bp_space_lookup_slot(space_id, &e) < 0)
		return false;
	if (out)
		*out = e;
	return true;
}

/*
 * ERROR unless the space exists and page_no is inside it; its entry into
 * *e and its registry slot returned (one lookup).
 */
static int
bp_space_check_page_entry(uint32 space_id, int64 page_no, BpSpaceEntry *e)
{
	int			slot = bp_space_lookup_slot(space_id, e);

	if (slot < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bufpool space %u does not exist", space_id)));
	if (page_no < 0 || (uint64) page_no >= e->size_pages)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("page %lld is outside bufpool space %u", (long long) page_no, space_id),
				 errdetail("Space \"%s\" has pages 0 to %llu.", e->name,
						   (unsigned long long) (e->size_pages - 1))));
	return slot;
}

/* ERROR unless the space exists and page_no is inside it. */
void
bp_space_check_page(uint32 space_id, int64 page_no)
{
	BpSpaceEntry e;

	(void) bp_space_check_page_entry(space_id, page_no, &e);
}

/* the file cache's key of a compressed space's overflow file (space ids are below) */
#define BP_FD_OVERFLOW		UINT64CONST(0x100000000)

/* The file of a cache key if it is in the process's file cache, else -1. */
static File
bp_space_cached_file(uint64 key)
{
	int			i;

	for (i = 0; i < BP_FD_CACHE; i++)
		if (fd_cache[i].key == key && fd_cache[i].file > 0)
			return fd_cache[i].file;
	return -1;
}

/* The space's file, or with overflow its overflow file, opened if need be. */
static File
bp_space_file_kind(uint32 space_id, bool overflow)
{
	char		path[MAXPGPATH];
	uint64		key = space_id | (overflow ? BP_FD_OVERFLOW : 0);
	File		f = bp_space_cached_file(key);
	BpFdCacheEntry *e;

	if (f > 0)
		return f;

	bp_space_kind_path(space_id, overflow, path, sizeof(path));
	f = PathNameOpenFile(path, O_RDWR | PG_BINARY);
	if (f < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" of bufpool space %u: %m", path, space_id)));
	e = &fd_cache[fd_cache_next];
	fd_cache_next = (fd_cache_next + 1) % BP_FD_CACHE;
	if (e->file > 0)
		FileClose(e->file);
	e->key = key;
	e->file = f;
	return f;
}

static File
bp_space_file(uint32 space_id)
{
	return bp_space_file_kind(space_id, false);
}

static void
bp_space_forget_file(uint32 space_id)
{
	int			i;

	for (i = 0; i < BP_FD_CACHE; i++)
		if ((uint32) fd_cache[i].key == space_id && fd_cache[i].file > 0)
		{
			FileClose(fd_cache[i].file);
			fd_cache[i].file = 0;
			fd_cache[i].key = 0;
		}
}

/*
 * Read a page from its file into buf and verify it.  A never-written
 * page is returned initialised.
 */
/* A buffer of half a page for slots (the largest key_block_size), made once. */
static char *
bp_space_slot_buffer(void)
{
	static char *slot = NULL;

	if (slot == NULL)
		slot = MemoryContextAlloc(TopMemoryContext, BpPageSize / 2);
	return slot;
}

/* The counters of a key_block_size. */
static BpZipStats *
bp_zip_size_stats(uint32 key_block_size)
{
	int			i = 0;

	while ((BP_ZIP_MIN_BLOCK << i) < (int) key_block_size && i < BP_ZIP_SIZES - 1)
		i++;
	return &BpShmem->zip_by_size[i];
}

/* Count one compression (ok: it fit) or decompression of ns into both sets. */
static void
bp_zip_count(const BpSpaceEntry *e, int slot, bool compress, bool ok, uint64 ns)
{
	BpZipStats *sets[2] = {bp_zip_size_stats(e->key_block_size),
	slot >= 0 ? &BpShmem->zip_by_space[slot] : NULL};
	int			i;

	for (i = 0; i < 2 && sets[i] != NULL; i++)
	{
		if (compress)
		{
			pg_atomic_fetch_add_u64(&sets[i]->compress_ops, 1);
			if (ok)
				pg_atomic_fetch_add_u64(&sets[i]->compress_ops_ok, 1);
			pg_atomic_fetch_add_u64(&sets[i]->compress_ns, ns);
		}
		else
		{
			pg_atomic_fetch_add_u64(&sets[i]->uncompress_ops, 1);
			pg_atomic_fetch_add_u64(&sets[i]->uncompress_ns, ns);
		}
	}
}

/*
 * Read page page_no of a compressed space whole from its overflow file
 * into buf, where its slot (read now, or kept in memory by the pool) says
 * it is, with LSN lsn.  Returns NULL, or what is wrong; an I/O error is
 * an ERROR.
 */
static const char *
bp_space_overflow_load(uint32 space_id, uint32 page_no, uint64 lsn, char *buf)
{
	int			n;

	n = FileRead(bp_space_file_kind(space_id, true), buf, BpPageSize,
				 (off_t) page_no * BpPageSize, WAIT_EVENT_DATA_FILE_READ);
	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read page %u of bufpool space %u from its overflow file: %m",
						page_no, space_id)));
	if (n != BpPageSize || !bp_page_is_intact(buf, space_id, page_no))
		return "its page in the overflow file fails its checks";
	if (((BpPageHeader *) buf)->lsn != lsn)
		return "its page in the overflow file is not the version its slot names";
	return NULL;
}

/*
 * For the pool, whose memory keeps the slot of a page stored in the
 * overflow file (its header only): read the page from the overflow file,
 * the version of LSN lsn.  false if the space is gone, or the page there
 * is not that version or fails its checks (the caller then reads the
 * page the whole way, which reports the damage).
 */
bool
bp_space_read_overflow(uint32 space_id, uint32 page_no, uint64 lsn, char *buf)
{
	BpSpaceEntry e;

	if (bp_space_lookup_slot(space_id, &e) < 0 || e.key_block_size == 0)
		return false;
	return bp_space_overflow_load(space_id, page_no, lsn, buf) == NULL;
}

/*
 * The page whose compressed slot bp_space_slot_buffer() holds, checked,
 * after a read or write of a compressed space (InvalidOid: none, as after
 * an overflow page or a never-written one): for the pool's zip memory
 * (bp_space_last_slot).
 */
static uint32 zip_slot_space = InvalidOid;
static uint32 zip_slot_page = 0;

/*
 * Load page page_no of compressed space e into buf: its slot, checked,
 * then decompressed, or the whole page from the overflow file, whose LSN
 * must be the slot's (an older copy left by a crash between the two
 * writes is damage, for the doublewrite repair to mend).  The page gets a
 * valid checksum, so it passes bp_page_is_intact as a page read from an
 * uncompressed space does, unless init_new (a read into the pool: the
 * frame gets its checksum when written).  A never-written page:
 * initialised, or with init_new false left zero (bp_page_is_new).  Returns NULL, or what is
 * damaged (buf then undefined); an I/O error is an ERROR.
 */
static const char *
bp_space_zip_load(const BpSpaceEntry *e, int reg_slot, uint32 page_no, char *buf, bool init_new)
{
	int			kbs = (int) e->key_block_size;
	char	   *slot = bp_space_slot_buffer();
	const char *why;
	int			n;
	int64		t0;

	zip_slot_space = InvalidOid;

	/*
	 * A space with pages in its overflow file: ask for the page there too
	 * before the slot is read, so that for such a page the two reads
	 * overlap.  For a page that fit its slot this reads a hole of the
	 * sparse file: no I/O.
	 */
	if (reg_slot >= 0 && pg_atomic_read_u32(&BpShmem->zip_overflow_seen[reg_slot]))
		(void) FilePrefetch(bp_space_file_kind(e->space_id, true), (off_t) page_no * BpPageSize,
							BpPageSize, WAIT_EVENT_DATA_FILE_PREFETCH);
	n = FileRead(bp_space_file(e->space_id), slot, kbs, (off_t) page_no * kbs,
				 WAIT_EVENT_DATA_FILE_READ);
	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read page %u of bufpool space %u: %m", page_no, e->space_id)));
	if (n < kbs)
		memset(slot + n, 0, kbs - n);
	if (bp_bytes_are_zero(slot, kbs))
	{
		memset(buf, 0, BpPageSize);
		if (init_new)
			bp_page_init(buf, e->space_id, page_no);
		return NULL;
	}
	why = bp_zip_check(slot, kbs, e->space_id, page_no);
	if (why != NULL)
		return why;
	if (bp_zip_is_overflow(slot))
	{
		if (reg_slot >= 0)
			pg_atomic_write_u32(&BpShmem->zip_overflow_seen[reg_slot], 1);
		why = bp_space_overflow_load(e->space_id, page_no, bp_zip_lsn(slot), buf);
		if (why == NULL)
		{
			zip_slot_page = page_no;
			zip_slot_space = e->space_id;
		}
		return why;
	}
	t0 = bp_clock_ns();
	if (!bp_zip_decompress(slot, kbs, buf, BpPageSize))
		return "it does not decompress";
	bp_zip_count(e, reg_slot, false, true, (uint64) (bp_clock_ns() - t0));
	if (!init_new)
		bp_page_set_checksum(buf);	/* for the caller's bp_page_is_intact */
	zip_slot_page = page_no;
	zip_slot_space = e->space_id;
	return NULL;
}

/* bp_space_zip_load, where damage is an ERROR naming the page. */
static void
bp_space_read_zip(const BpSpaceEntry *e, int reg_slot, uint32 page_no, char *buf, bool init_new)
{
	const char *why = bp_space_zip_load(e, reg_slot, page_no, buf, init_new);

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("compressed page %u of bufpool space %u is damaged: %s", page_no, e->space_id, why)));
}

void
bp_space_read(uint32 space_id, uint32 page_no, char *buf)
{
	File		f;
	int			n;
	BpSpaceEntry e;
	int			reg_slot;

	reg_slot = bp_space_check_page_entry(space_id, page_no, &e);
	if (e.key_block_size != 0)
	{
		bp_space_read_zip(&e, reg_slot, page_no, buf, true);
		return;
	}
	f = bp_space_file(space_id);
	n = FileRead(f, buf, BpPageSize, (off_t) page_no * BpPageSize, WAIT_EVENT_DATA_FILE_READ);
	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read page %u of bufpool space %u: %m", page_no, space_id)));
	if (n < BpPageSize)
		memset(buf + n, 0, BpPageSize - n);
	if (bp_page_is_new(buf))
		bp_page_init(buf, space_id, page_no);
	else
		bp_page_verify(buf, space_id, page_no);
}

/*
 * For the doublewrite repair of a compressed space: whether page page_no
 * reads well where it is stored (never written, or its slot and any
 * overflow copy intact).  Reads through the space's files, not the pool.
 */
bool
bp_space_zip_page_ok(uint32 space_id, uint32 page_no)
{
	BpSpaceEntry e;
	int			reg_slot = bp_space_lookup_slot(space_id, &e);
	char	   *page;
	bool		ok;

	if (reg_slot < 0)
		return true;			/* dropped: nothing to repair */
	if (e.key_block_size == 0)
		elog(ERROR, "bufpool space %u is not a compressed space", space_id);
	page = palloc(BpPageSize);
	ok = bp_space_zip_load(&e, reg_slot, page_no, page, false) == NULL;
	pfree(page);
	return ok;
}

/*
 * Ask the kernel to start reading pages first .. first + n - 1 of a
 * space (posix_fadvise WILLNEED through fd.c); nothing waits.  For the
 * warm-restart load, which keeps several runs in flight this way.
 */
void
bp_space_prefetch(uint32 space_id, uint32 first, int n)
{
	BpSpaceEntry e;
	int			unit;

	if (!bp_space_lookup(space_id, &e))
		return;
	unit = e.key_block_size ? (int) e.key_block_size : BpPageSize;
	(void) FilePrefetch(bp_space_file(space_id), (off_t) first * unit,
						n * unit, WAIT_EVENT_DATA_FILE_PREFETCH);
}

/*
 * Read pages first .. first + n - 1 of a space with one preadv into
 * bufs[0 .. n-1] (each BpPageSize bytes), zero-filling what lies past the
 * end of the file.  The pages are not verified: the caller checks each
 * (bp_page_is_new, bp_page_is_intact).  ERROR if the space is not ACTIVE,
 * the run is outside it, or the read fails.
 */
void
bp_space_read_run(uint32 space_id, uint32 first, int n, char **bufs)
{
	struct iovec iov[BP_READ_RUN_MAX];
	File		f;
	int			fd;
	ssize_t		got;
	int			i;

	BpSpaceEntry e;
	int			reg_slot;

	Assert(n >= 1 && n <= BP_READ_RUN_MAX);
	reg_slot = bp_space_check_page_entry(space_id, (int64) first + n - 1, &e);
	if (e.key_block_size != 0)
	{
		/*
		 * A compressed space: slot by slot, each decompressed; a damaged one
		 * is left failing bp_page_is_intact for the caller, as a damaged
		 * page of an uncompressed space is.
		 */
		for (i = 0; i < n; i++)
			if (bp_space_zip_load(&e, reg_slot, first + i, bufs[i], false) != NULL)
				memset(bufs[i], 0xFF, BpPageSize);
		return;
	}
	f = bp_space_file(space_id);
	/* opens the file again if fd.c closed it to save descriptors */
	(void) FilePrefetch(f, (off_t) first * BpPageSize, n * BpPageSize,
						WAIT_EVENT_DATA_FILE_PREFETCH);
	fd = FileGetRawDesc(f);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file of bufpool space %u: %m", space_id)));
	for (i = 0; i < n; i++)
	{
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = BpPageSize;
	}
	pgstat_report_wait_start(WAIT_EVENT_DATA_FILE_READ);
	got = pg_preadv(fd, iov, n, (off_t) first * BpPageSize);
	pgstat_report_wait_end();
	if (got < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read pages %u to %u of bufpool space %u: %m",
						first, first + n - 1, space_id)));
	for (i = 0; i < n; i++)
	{
		ssize_t		off = (ssize_t) i * BpPageSize;

		if (got < off + BpPageSize)
			memset(bufs[i] + Max(got - off, 0), 0, BpPageSize - Max(got - off, 0));
	}
}

/*
 * Write a page (a private copy: its checksum is set here).  Returns false
 * if the space no longer exists; the caller then forgets the page.
 */
bool
bp_space_write(uint32 space_id, uint32 page_no, char *buf)
{
	if (!bp_space_lookup(space_id, NULL))
	{
		bp_space_forget_file(space_id);
		return false;
	}
	bp_page_prepare_write(buf, space_id, page_no);
	return bp_space_write_prepared(space_id, page_no, buf, BpPageSize);
}

/*
 * Write the first nbytes of a page whose header and checksum are set
 * (bp_page_prepare_write); nbytes is the page size except for a torn
 * write that a test makes at the fault point page-write-in-place.  Returns false if the space no
 * longer exists.
 */
/*
 * Write nbytes of data at off of file f, page page_no of a space (the
 * fault point data-write first, with page, the whole page being written);
 * ERROR if it fails.
 */
static void
bp_space_pwrite(File f, const char *data, int nbytes, off_t off, uint32 space_id,
				uint32 page_no, const char *page)
{
	int			n;

	errno = 0;
	if (BP_FAULT_ARMED())
	{
		BpFaultPage fp = {space_id, page_no, page};

		if (bp_fault_run("data-write", &fp))
			n = -1;				/* the callback set errno */
		else
			n = FileWrite(f, (char *) data, nbytes, off, WAIT_EVENT_DATA_FILE_WRITE);
	}
	else
		n = FileWrite(f, (char *) data, nbytes, off, WAIT_EVENT_DATA_FILE_WRITE);
	if (n != nbytes)
	{
		if (n >= 0)
			errno = ENOSPC;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write page %u of bufpool space %u: %m", page_no, space_id)));
	}
}

/*
 * A compressed space: the page compressed into its slot, or whole into
 * the overflow file (written first) and a slot that says so.  A torn
 * write (nbytes short of a page) writes as much of the slot.  Returns
 * whether the overflow file was written.  Until both files are fsynced
 * the doublewrite copy covers the pair; an overflow page left older than
 * its slot by a crash is caught by its LSN (bp_space_zip_load).
 */
static bool
bp_space_write_zip(const BpSpaceEntry *e, int reg_slot, uint32 page_no, const char *buf, int nbytes)
{
	int			kbs = (int) e->key_block_size;
	char	   *slot = bp_space_slot_buffer();
	int64		t0;
	bool		fits;

	zip_slot_space = InvalidOid;
	t0 = bp_clock_ns();
	fits = bp_zip_compress((int) e->compression, buf, BpPageSize, slot, kbs) >= 0;
	bp_zip_count(e, reg_slot, true, fits, (uint64) (bp_clock_ns() - t0));
	if (!fits)
	{
		if (reg_slot >= 0)
			pg_atomic_write_u32(&BpShmem->zip_overflow_seen[reg_slot], 1);
		bp_space_pwrite(bp_space_file_kind(e->space_id, true), buf, nbytes,
						(off_t) page_no * BpPageSize, e->space_id, page_no, buf);
		bp_zip_overflow_slot(buf, slot, kbs);
	}
	bp_space_pwrite(bp_space_file(e->space_id), slot,
					nbytes >= BpPageSize ? kbs : Max(1, (int) ((int64) kbs * nbytes / BpPageSize)),
					(off_t) page_no * kbs, e->space_id, page_no, buf);
	if (nbytes >= BpPageSize)
	{
		zip_slot_space = e->space_id;
		zip_slot_page = page_no;
	}
	return !fits;
}

/*
 * The slot of page (space_id, page_no) as the last read or write of this
 * process left it, checked or just written: NULL unless that page came
 * from (or went to) a compressed space's slot.  A page kept in the
 * overflow file has a slot too, its header only (bp_zip_is_overflow).
 * *len gets the bytes in use (page header, zip header, payload).  Valid
 * until the next read or write of a compressed space.
 */
const char *
bp_space_last_slot(uint32 space_id, uint32 page_no, int *len)
{
	const char *slot = bp_space_slot_buffer();

	if (zip_slot_space != space_id || zip_slot_page != page_no || space_id == InvalidOid)
		return NULL;
	*len = bp_zip_used(slot);
	return slot;
}

/*
 * Decompress a slot of space_id kept in memory (len bytes in use, as
 * bp_space_last_slot gave them) into page, counted as the space's reads
 * are.  false if the space is gone or the data do not decompress.
 */
bool
bp_space_zip_decompress(uint32 space_id, const char *slot, int len, char *page)
{
	BpSpaceEntry e;
	int			reg_slot = bp_space_lookup_slot(space_id, &e);
	int64		t0;

	if (reg_slot < 0 || e.key_block_size == 0)
		return false;
	t0 = bp_clock_ns();
	if (!bp_zip_decompress(slot, len, page, BpPageSize))
		return false;
	bp_zip_count(&e, reg_slot, false, true, (uint64) (bp_clock_ns() - t0));
	return true;				/* no checksum: a frame gets one when written */
}

bool
bp_space_write_prepared(uint32 space_id, uint32 page_no, const char *buf, int nbytes)
{
	int			i;
	BpSpaceEntry e;
	int			reg_slot = bp_space_lookup_slot(space_id, &e);
	bool		overflow = false;

	if (reg_slot < 0)
	{
		bp_space_forget_file(space_id);
		return false;
	}
	if (e.key_block_size != 0)
		overflow = bp_space_write_zip(&e, reg_slot, page_no, buf, nbytes);
	else
		bp_space_pwrite(bp_space_file(space_id), buf, nbytes, (off_t) page_no * BpPageSize,
						space_id, page_no, buf);
	for (i = 0; i < n_pending_sync; i++)
		if (pending_sync[i] == space_id)
		{
			pending_overflow[i] |= overflow;
			return true;
		}
	if (n_pending_sync == BP_FD_CACHE)
		bp_space_sync_pending();
	pending_overflow[n_pending_sync] = overflow;
	pending_sync[n_pending_sync++] = space_id;
	return true;
}

/*
 * Start writeback of every space this process wrote since its last sync
 * (sync_file_range through FileWriteback; nothing waits).  The doublewrite
 * path calls it after a round's in-place writes, so by the time the data
 * files are fsynced, one round later, the kernel has written most of it
 * while this process went on with the next round.
 */
void
bp_space_start_writeback(void)
{
	int			i;

	for (i = 0; i < n_pending_sync; i++)
	{
		File		f = bp_space_cached_file(pending_sync[i]);

		if (f > 0)
			FileWriteback(f, 0, (off_t) 1 << 40, WAIT_EVENT_DATA_FILE_FLUSH);	/* to the end */
		if (pending_overflow[i] &&
			(f = bp_space_cached_file(pending_sync[i] | BP_FD_OVERFLOW)) > 0)
			FileWriteback(f, 0, (off_t) 1 << 40, WAIT_EVENT_DATA_FILE_FLUSH);
	}
}

/*
 * bp_space_sync_pending for error cleanup: takes no lock and opens no
 * file, so it can run in a PG_CATCH block whatever the failed code held.
 * Only files still in the process's file cache are fsynced (the files of
 * pending spaces normally are; a dropped space's file is fsynced
 * harmlessly).  A failed fsync is reported at data_sync_elevel(WARNING):
 * PANIC unless data_sync_retry is on.  Returns true if every pending file
 * was fsynced (the list is then empty).
 */
bool
bp_space_sync_pending_noerror(void)
{
	while (n_pending_sync > 0)
	{
		uint32		space_id = pending_sync[n_pending_sync - 1];
		File		f = bp_space_cached_file(space_id);
		File		of = pending_overflow[n_pending_sync - 1] ?
			bp_space_cached_file(space_id | BP_FD_OVERFLOW) : 0;

		if (f <= 0 || of < 0)
			return false;
		if (FileSync(f, WAIT_EVENT_DATA_FILE_SYNC) != 0 ||
			(of > 0 && FileSync(of, WAIT_EVENT_DATA_FILE_SYNC) != 0))
		{
			ereport(data_sync_elevel(WARNING),
					(errcode_for_file_access(),
					 errmsg("could not fsync file of bufpool space %u: %m", space_id)));
			return false;
		}
		n_pending_sync--;
	}
	return true;
}

/* fsync every space this process wrote since its last sync. */
/* fsync a space's file, and a compressed space's overflow file; false if it is gone. */
static bool
bp_space_fsync(uint32 space_id)
{
	BpSpaceEntry e;
	int			k;

	if (!bp_space_lookup(space_id, &e))
		return false;
	for (k = e.key_block_size != 0 ? 0 : 1; k < 2; k++)
		if (FileSync(bp_space_file_kind(space_id, k == 0), WAIT_EVENT_DATA_FILE_SYNC) != 0)
			ereport(data_sync_elevel(ERROR),
					(errcode_for_file_access(),
					 errmsg("could not fsync %sfile of bufpool space %u: %m",
							k == 0 ? "the overflow " : "", space_id)));
	return true;
}

void
bp_space_sync_pending(void)
{
	while (n_pending_sync > 0)
	{
		(void) bp_space_fsync(pending_sync[n_pending_sync - 1]);
		n_pending_sync--;
	}
}

/*
 * fsync every space's file (a checkpoint: pages other processes wrote
 * are in the kernel's cache until then).
 */
void
bp_space_sync_all(void)
{
	uint32		ids[BP_MAX_SPACES];
	int			n = 0;
	int			i;

	LWLockAcquire(&BpShmem->space_lock.lock, LW_SHARED);
	for (i = 0; i < BP_MAX_SPACES; i++)
		if (BpShmem->spaces[i].state == BP_SPACE_ACTIVE)
			ids[n++] = BpShmem->spaces[i].space_id;
	LWLockRelease(&BpShmem->space_lock.lock);
	for (i = 0; i < n; i++)
		(void) bp_space_fsync(ids[i]);	/* false: dropped meanwhile */
}

/* The highest LSN recorded before this start (the registry's, or a page's read since). */
uint64
bp_space_max_lsn(void)
{
	return pg_atomic_read_u64(&BpShmem->next_lsn);
}

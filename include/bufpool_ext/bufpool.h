/*-------------------------------------------------------------------------
 *
 * bufpool.h
 *	  Public C API of bufpool_ext, for other extensions.
 *
 * bufpool_ext is loaded through shared_preload_libraries, so its symbols
 * are visible to every library loaded after it.  The page API follows
 * PostgreSQL's ReadBuffer / ReleaseBuffer pattern:
 *
 *		BpPage	p = bp_page_fetch(space_id, page_no, NULL);
 *		bp_page_lock(p, BP_LOCK_SHARE);
 *		... read bp_page_data(p) ...
 *		bp_page_unlock(p);
 *		bp_page_release(p);
 *
 * To change a page, lock it exclusively and either call bp_page_write()
 * (changes and logs a byte range) or change bp_page_data() and call
 * bp_page_mark_dirty() (logs the whole payload) before unlocking: both
 * return the change's LSN.  Several pages at once: a mini-transaction
 * (bp_mtr_*, below).
 *
 * The contract:
 *	- Loading.  List the consumer after bufpool_ext in
 *	  shared_preload_libraries and call bp_api_require("name") from its
 *	  _PG_init: it fails with a clear ERROR otherwise.
 *	- Pins.  A session holds at most 256 pins at once (ERROR 53000 past
 *	  that); the same page pinned twice is two pins.  A pin belongs to
 *	  CurrentResourceOwner at the fetch and is released with it (the end
 *	  of the statement, subtransaction or transaction), with a WARNING if
 *	  it was left at a commit; to keep one across statements, fetch it
 *	  under a longer-lived resource owner.  A pinned page stays in the
 *	  pool (no eviction, no move by a resize).
 *	- Locks.  A content lock holds off interrupts from lock to unlock, as
 *	  an LWLock does: keep it short, never wait for anything under it.
 *	  An ERROR releases every page lock of the session (and at a
 *	  subtransaction's abort, also the enclosing one's, as LWLocks); do
 *	  not unlock in a PG_CATCH.  Lock order against LWLocks: a page lock
 *	  is taken before any LWLock of the caller's, never while holding one.
 *	  Between pages: the caller's own order, one for all its code (see
 *	  mini-transactions); bp_page_lock_conditional to go against it.
 *	- Data pointers.  bp_page_data() is valid while the page is pinned;
 *	  read it under a share or exclusive lock, write it under an
 *	  exclusive lock only.  A change that is not logged by the unlock is
 *	  undone, with ERROR 55000 (before-images): nobody else ever sees it.
 *	- The log-room rule.  Call bp_log_free_check() (or bp_mtr_start())
 *	  with no page locked before each change; a change without it may be
 *	  refused with ERROR 55000 when the log is nearly full, nothing changed.
 *	  Then bp_log_commit(lsn) with the last LSN, with no page locked.
 *	- Errors.  A page outside its space: 22023; a space that does not
 *	  exist: 42704; a space name taken: 42710; no free block (all
 *	  pinned) or too many pins: 53000; a page that fails its checksum or
 *	  identity check when read: XX001; a file that cannot be read or
 *	  written: the file's error (58030 and the like); misuse (unlocking
 *	  what is not locked, a mini-transaction not started, a page twice
 *	  in one): 55000 or XX000.
 *
 * Installed by make install as extension/bufpool_ext/bufpool.h under
 * PostgreSQL's server include directory (pg_config --includedir-server):
 *
 *		#include "postgres.h"
 *		#include "extension/bufpool_ext/bufpool.h"
 *
 * and build with PGXS; nothing else of bufpool_ext is installed.  The
 * other headers of the source tree are internal and may change in any
 * release.  BUFPOOL_EXT_VERSION_NUM tells the version of this API
 * (major * 10000 + minor * 100), the same as the extension's SQL version.
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/bufpool.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_BUFPOOL_H
#define BUFPOOL_EXT_BUFPOOL_H

#define BUFPOOL_EXT_VERSION			"1.13"
#define BUFPOOL_EXT_VERSION_NUM		11300

/*
 * A consumer's references to this API are weak (GCC or Clang on ELF), so
 * that a library loaded before bufpool_ext still loads and its _PG_init
 * can say what is wrong (bp_api_require, below) instead of the dynamic
 * loader's "undefined symbol".  bufpool_ext's own sources define
 * BUFPOOL_EXT_INTERNAL.
 */
#if defined(__GNUC__) && defined(__ELF__) && !defined(BUFPOOL_EXT_INTERNAL)
#define BP_API extern __attribute__((weak))
#else
#define BP_API extern
#endif

/* The API version of the bufpool_ext that is loaded, and how it was. */
BP_API const int bp_api_version_num;
BP_API bool bp_api_is_preloaded(void);

/*
 * Call from the consumer's _PG_init: ERROR unless bufpool_ext was loaded
 * before it through shared_preload_libraries, with an API of the same
 * major version and at least the minor one the consumer was built with.
 * (In the postmaster the ERROR stops the start, naming the consumer.)
 */
#ifndef BUFPOOL_EXT_INTERNAL
static inline void
bp_api_require(const char *consumer)
{
	if (&bp_api_version_num == NULL || bp_api_is_preloaded == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs bufpool_ext, loaded before it", consumer),
				 errhint("List bufpool_ext before %s in shared_preload_libraries.", consumer)));
	if (!bp_api_is_preloaded())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs bufpool_ext loaded through shared_preload_libraries", consumer)));
	if (bp_api_version_num / 10000 != BUFPOOL_EXT_VERSION_NUM / 10000 ||
		bp_api_version_num < BUFPOOL_EXT_VERSION_NUM)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s was built for the bufpool_ext API %d.%d, the server has %d.%d",
						consumer, BUFPOOL_EXT_VERSION_NUM / 10000, BUFPOOL_EXT_VERSION_NUM / 100 % 100,
						bp_api_version_num / 10000, bp_api_version_num / 100 % 100)));
}
#endif

/* A pinned page: instance in the high 32 bits, block number in the low. */
typedef uint64 BpPage;

#define BP_INVALID_PAGE		((BpPage) UINT64CONST(0xFFFFFFFFFFFFFFFF))

typedef enum BpLockMode
{
	BP_LOCK_SHARE,
	BP_LOCK_EXCLUSIVE
} BpLockMode;

/* What bp_page_fetch reports about the access. */
typedef struct BpFetchInfo
{
	bool		hit;			/* found in the pool without a read */
	bool		is_old;			/* in the old sublist after the access */
	int			instance;
	int64		block_id;
} BpFetchInfo;

/* On-page header maintained by bufpool_ext; page payload follows. */
typedef struct BpPageHeader
{
	uint64		lsn;			/* newest modification written in the page */
	uint32		space_id;
	uint32		page_no;
	uint32		checksum;		/* CRC-32C of the page with this field 0 */
	uint16		version;
	uint16		flags;
} BpPageHeader;

#define BP_PAGE_VERSION		1
#define BP_PAGE_HEADER_SIZE	sizeof(BpPageHeader)

BP_API BpPage bp_page_fetch(uint32 space_id, uint32 page_no, BpFetchInfo *info);
BP_API void bp_page_release(BpPage page);
BP_API void bp_page_lock(BpPage page, BpLockMode mode);
BP_API void bp_page_unlock(BpPage page);
BP_API char *bp_page_data(BpPage page);	/* payload after the header */
BP_API int	bp_page_payload_size(void);
BP_API uint64 bp_page_mark_dirty(BpPage page);	/* logs the whole payload */
BP_API uint64 bp_page_write(BpPage page, int offset, const char *data, int len);

/*
 * A page to be written from scratch (as RBM_ZERO_AND_LOCK): pinned,
 * locked exclusively, its payload zeroed, not read from its file.  Its
 * first logged change logs it whole.  Log it before its lock goes: an
 * unlogged new page may show its file's old content once evicted.
 */
BP_API BpPage bp_page_fetch_new(uint32 space_id, uint32 page_no);

/*
 * Spaces: files of pages the pool caches.  A name is 1 to 63 bytes of
 * letters, digits, '_', '-' and '.'.  bp_space_create returns the new
 * space's id (ERROR 42710 if the name is taken); bp_space_find returns the
 * id of a space by name, or 0; bp_space_size its page count (ERROR 42704
 * if it does not exist); bp_space_extend adds n_pages zero pages at its
 * end, durably, and returns the new page count; bp_space_drop removes the
 * space and its pages from the pool (ERROR 55006 if a page is pinned).
 * None may be called with a page locked.
 */
BP_API uint32 bp_space_create(const char *name, int64 size_pages);
BP_API uint32 bp_space_find(const char *name);
BP_API int64 bp_space_size(uint32 space_id);
BP_API int64 bp_space_extend(uint32 space_id, int64 n_pages);
BP_API void bp_space_drop(uint32 space_id);

/*
 * Conditional lock: takes the lock as bp_page_lock does and returns true,
 * or returns false at once if another holder is in the way.
 */
BP_API bool bp_page_lock_conditional(BpPage page, BpLockMode mode);

/*
 * Mini-transactions: a group of page changes whose redo is written as one
 * unit, so recovery applies all of it or none (a crash in the middle of
 * its commit leaves none).
 *
 *		BpMtr	mtr;
 *		bp_mtr_start(&mtr);				   (no page locked: it may make room
 *											in the log, as bp_log_free_check)
 *		BpPage	a = bp_mtr_fetch(&mtr, space, 1, BP_LOCK_EXCLUSIVE);
 *		BpPage	b = bp_mtr_fetch(&mtr, space, 2, BP_LOCK_EXCLUSIVE);
 *		... change bp_page_data(a), bp_page_data(b) ...
 *		lsn = bp_mtr_commit(&mtr);		   (logs, unlocks, unpins)
 *		bp_log_commit(lsn);				   (as durable as flush_log_at_commit)
 *
 * Pages are pinned and locked by bp_mtr_fetch and stay so until commit or
 * abort, which release them in the reverse order of their fetch.  At most
 * BP_MTR_MAX_PAGES pages, each once.  The commit logs, for each page
 * changed through bp_page_data() under its exclusive lock, the changed
 * byte ranges; all pages take the group's LSN.  bp_mtr_start reserves
 * room in the log for BP_MTR_MAX_PAGES full pages, so the commit never
 * fails for want of log.  Until the commit nobody
 * else sees a change (the pages are locked); bp_mtr_abort, or an ERROR
 * anywhere before the commit's end (the transaction's abort), puts every
 * page back as it was.  Lock order: a process takes the pages of its
 * mini-transactions in one order, the same for all of them (for example
 * (space, page) ascending, or top-down in a tree); to go against it, use
 * bp_mtr_fetch_conditional and start again when it fails.  Do not call
 * bp_page_mark_dirty or bp_page_write on a page of a mini-transaction.
 */
#define BP_MTR_MAX_PAGES	16

typedef struct BpMtr
{
	uint32		magic;			/* set by bp_mtr_start */
	int			n_pages;
	BpPage		pages[BP_MTR_MAX_PAGES];
	uint32		space_ids[BP_MTR_MAX_PAGES];
	uint32		page_nos[BP_MTR_MAX_PAGES];
	int8		modes[BP_MTR_MAX_PAGES];
} BpMtr;

BP_API void bp_mtr_start(BpMtr *mtr);
BP_API BpPage bp_mtr_fetch(BpMtr *mtr, uint32 space_id, uint32 page_no, BpLockMode mode);
BP_API BpPage bp_mtr_fetch_conditional(BpMtr *mtr, uint32 space_id, uint32 page_no,
									   BpLockMode mode);	/* BP_INVALID_PAGE: busy */
BP_API BpPage bp_mtr_fetch_new(BpMtr *mtr, uint32 space_id, uint32 page_no);	/* as bp_page_fetch_new */
BP_API uint64 bp_mtr_commit(BpMtr *mtr);	/* 0 if nothing changed */
BP_API void bp_mtr_abort(BpMtr *mtr);

/*
 * Redo: call bp_log_free_check() before each change, with no page locked
 * (it may write pages and checkpoint to keep room in the log, and gives
 * the process a credit for one record), and bp_log_commit(lsn) after
 * unlocking, with the last LSN of the change, to make it as durable as
 * bufpool_ext.flush_log_at_commit asks.  A change without a credit is
 * refused (ERROR, nothing changed) when only the margin kept for
 * credited changes is left in the log.
 */
BP_API void bp_log_free_check(void);
BP_API void bp_log_commit(uint64 lsn);

/*
 * Shared memory for many small objects: size-class pools.  An object is
 * named by a BpShmAddr, a 64-bit value that means the same in every
 * process; bp_shm_ptr() gives a pointer to it valid in the calling
 * process (store the BpShmAddr in shared memory, never the pointer).
 *
 *		int			set = bp_size_classes_find("my_ext");
 *		if (set < 0)
 *			set = bp_size_classes_create("my_ext");
 *		BpShmAddr	a = bp_shm_alloc(set, sizeof(MyItem));
 *		MyItem	   *item = bp_shm_ptr(a);
 *		...
 *		bp_shm_free(set, a, sizeof(MyItem));
 *
 * A request of 1 .. 4096 bytes takes an object of the nearest of 49
 * classes (8, 16, 32, 48, 64, then 16 bytes apart to 256, then eight per
 * doubling: at most 12.5% more than asked above 128 bytes); up to a page
 * (bufpool_ext.page_size) a buddy block (the next power of two); more
 * is an ERROR.  An allocation and a free take no lock on the common path
 * (each process caches a few objects per class).  bp_shm_free must be
 * told the set and the size given to bp_shm_alloc.  Sets: the shared one
 * (BP_SIZE_CLASSES_SHARED), or up to 4 named ones (besides bufpool_ext's
 * own "backend_memory" and "memory_leaks", which cannot be dropped), each with its own slabs, its own memory
 * instruments memory/bufpool/size_class_set/<name> (objects) and .../
 * <name>/slabs, and its own rows in bufpool.size_classes: one per consumer, created
 * once (by name; a second create of a name is ERROR 42710) and found
 * again by every process.  Lifetime: an object lives until freed or the
 * server stops (shared memory is not kept across a restart); a set until
 * bp_size_classes_drop, which refuses (ERROR 55006) while it has objects
 * in use, or the server stops.  Objects a process leaves at its exit stay
 * allocated and are shown as in use; if it ended by an error (a
 * terminated session), bufpool.memory_leaks names them with its pid.  Errors: out of memory 53200; a size
 * of 0 or above a page, a set that does not exist, a free of an address
 * that is not an object of that set and size, or of an object not in use
 * (a double free), 22023, and nothing changes.  None may be called under
 * a spinlock; they may take LWLocks of their own (leaves).
 */
#ifndef BP_SHM_ADDR_DEFINED		/* the buddy allocator's header has it too */
#define BP_SHM_ADDR_DEFINED
typedef uint64 BpShmAddr;
#endif

#define BP_SIZE_CLASSES_SHARED	0

BP_API int	bp_size_classes_create(const char *name);	/* 1 .. 27 bytes */
BP_API int	bp_size_classes_find(const char *name);	/* -1: none */
BP_API void bp_size_classes_drop(int set);
BP_API BpShmAddr bp_shm_alloc(int set, Size size);
BP_API void bp_shm_free(int set, BpShmAddr addr, Size size);
BP_API void *bp_shm_ptr(BpShmAddr addr);

#endif							/* BUFPOOL_EXT_BUFPOOL_H */

/*-------------------------------------------------------------------------
 *
 * sizeclass.c
 *	  Size-class pools in shared memory: many small objects of a few
 *	  fixed sizes, each allocation a pop from a process's own cache.
 *
 * What it is for.  The buddy allocator (buddy.c) rounds a request up to a
 * power of two: a 200-byte object takes 256 bytes, a 520-byte one 1 kB.
 * Many small shared objects of a few sizes want what PostgreSQL's Slab
 * context gives local memory and tcmalloc gives threads: classes close
 * to the sizes asked for, slabs of one class, and a free list per class.
 *
 * Classes (BP_SC_N_CLASSES = 49, 8 B .. 4 kB): 8, 16, 32, 48, 64, then
 * steps of 16 bytes to 256, then eight classes per doubling (steps of 32
 * to 512, of 64 to 1 kB, of 128 to 2 kB, of 256 to 4 kB).  jemalloc uses
 * four classes per doubling, so a 200-byte object takes 224 bytes (12%
 * lost); tcmalloc's classes are 16 bytes apart up to 256 and about an
 * eighth apart above, which we follow: at most 12.5% lost above 128
 * bytes, and 200 bytes take 208.  Requests above 4 kB go to the buddy
 * allocator (a block of the next power of two).
 *
 * Slabs.  A slab is one buddy block of a page (bp_buddy_alloc, from the
 * instance's region or a frame of chunk 0, which a shrink never removes),
 * aligned to a page in its BpShmAddr, so an object's slab is its address
 * with the low bits cleared.  It starts with a header (BpScSlab: magic,
 * set, class, instance, its own address, counts, links) and a state byte
 * per object, then the objects.  A free object holds the index of the
 * next free one of its slab in its first two bytes.  A class of a set has
 * per instance a state (BpScClass: its LWLock, the list of slabs with a
 * free object, the list of all its slabs, counts).
 *
 * Per-process caches.  Each process keeps, per set and class, a few
 * objects (32 up to 1 kB, 16 above).  An allocation
 * pops one and a free pushes one: no lock, no shared cache line written
 * but the object's state byte.  An empty cache takes half its capacity
 * from the class's slabs under the class's lock (the process's instance:
 * MyProcPid modulo the instances, as the buddy allocator picks); a full
 * one gives half back, each object to its own slab.  A process gives its
 * whole cache back when it exits (before_shmem_exit) or when asked
 * (bp_sc_flush_cache).
 *
 * Checking.  An object's state byte is FREE (in its slab's free list),
 * CACHED (in a process's cache) or USED (handed out).  A free checks that
 * the address is in a slab of the set and class of the size given, at an
 * object's start, and moves its state from USED to CACHED with a compare
 * and swap: a wrong pointer or size, and a double free (even two
 * processes freeing one object at once), are an ERROR, and nothing
 * changes.  bp_sc_verify walks every slab under its class's lock.
 *
 * Empty slabs go back to the buddy allocator (after the lock is released)
 * unless bufpool_ext.size_class_prealloc asks to keep that many slabs of
 * each class per instance; those are taken when the class is first used
 * in an instance and stay.
 *
 * Statistics.  Hot-path counts are per process, in the process's own row
 * (by pgprocno; a row is never cleared, so counts of exited processes
 * stay in the sums): per set and class, allocations, frees, bytes
 * requested by the objects in use (allocs add, frees subtract: a free is
 * told the size, as bp_buddy_free is) and objects moved from slabs to
 * its cache less those moved back (so its cache holds moved - allocs +
 * frees, and the hot path updates two counts, not three).  Objects
 * in use are the sum of allocations less frees; free ones are the slabs'
 * capacity less those.  Memory: the shared set's slabs are charged to
 * memory/bufpool/size_class/slabs, a named set's to memory/bufpool/
 * size_class_set/<name>/slabs; objects at their class size to the
 * caller's instrument, else memory/bufpool/size_class or memory/bufpool/
 * size_class_set/<name>.
 *
 * Objects left at exit.  A process ended by an error (a FATAL: a
 * terminated session or worker) having allocated more objects of a set
 * than it freed (its own counts since its first use of the set) leaves a
 * record (pid, backend type, set, objects, bytes) in a ring of
 * BP_SC_ORPHANS; bp_sc_orphans lists those whose set still has at least
 * that many objects in use, for the pool manager's leak check
 * (bufpool.memory_leaks).  A normal exit leaves none: objects for others
 * (a key-value store's entries) outlive their writer by design.  Objects
 * handed to another process that frees them later look the same until
 * it does: a suspicion, as the view says.
 *
 * Locks: a class's LWLock (one per set, instance and class) is a leaf
 * but for the buddy allocator's spinlock, never taken under it: a new
 * slab is allocated, and an empty one freed, with it released.  The set
 * table (names) and the exit records are under set_lock, taken alone.
 *
 * IDENTIFICATION
 *	  src/mmgr/sizeclass.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/twophase.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/mmgr/sizeclass.h"

#define BP_SC_MAGIC			0x5C1A55ED
#define BP_SC_NONE			0xFFFF	/* end of a slab's free list */

/* an object's state byte */
#define BP_SC_FREE			0
#define BP_SC_CACHED		1
#define BP_SC_USED			2

#define BP_SC_CACHE_MAX		32

/* links of a doubly linked list of slabs, by address */
typedef struct BpScLinks
{
	BpShmAddr	prev;
	BpShmAddr	next;
} BpScLinks;

typedef struct BpScSlab
{
	uint32		magic;
	uint8		set;
	uint8		cls;
	uint8		instance;
	bool		on_partial;
	uint16		n_objects;
	uint16		n_free;			/* in the free list (not cached) */
	uint16		free_head;
	uint16		objects_off;	/* where the objects start */
	uint32		reciprocal;		/* ceil(2^32 / class size): index = off * r >> 32 */
	int32		owner;			/* pgprocno + 1 of the process refilling from it, 0:
								 * none (class lock) */
	BpShmAddr	self;
	BpScLinks	partial_link;	/* the class's list of slabs with a free object */
	BpScLinks	all_link;		/* the class's list of all its slabs */
	uint8		state[FLEXIBLE_ARRAY_MEMBER];
} BpScSlab;

#define BP_SC_PARTIAL	offsetof(BpScSlab, partial_link)
#define BP_SC_ALL		offsetof(BpScSlab, all_link)

/* one set's class in one instance (its own cache lines) */
typedef struct BpScClass
{
	LWLock		lock;
	BpShmAddr	partial;		/* slabs with a free object */
	BpShmAddr	all;			/* every slab */
	int64		slabs;
	int64		free_in_slabs;	/* objects in slabs' free lists */
	bool		preallocated;
} BpScClass;

typedef union BpScClassPadded
{
	BpScClass	c;
	char		pad[PG_CACHE_LINE_SIZE];
} BpScClassPadded;

/* a process's counts for one set's class (its own row, by pgprocno) */
typedef struct BpScProcStats
{
	int64		allocs;
	int64		frees;
	int64		bytes_requested;
	int64		moved;			/* objects from slabs to the cache, less back:
								 * cached = moved - allocs + frees */
} BpScProcStats;

typedef struct BpScSetEntry
{
	bool		in_use;
	bool		reserved;		/* the extension's own: its slot and name are
								 * kept for it, and it cannot be dropped */
	char		name[BP_SC_NAME_LEN];
	BpMemKey	key;			/* its objects' instrument (0: the shared set's,
								 * registered by each process) */
	BpMemKey	slab_key;		/* its slabs' (0: likewise) */
} BpScSetEntry;

typedef struct BpScShared
{
	int			n_instances;
	int			n_procs;
	int			page_size;
	int			tranche;
	LWLock		set_lock;
	BpScSetEntry sets[BP_SC_MAX_SETS];
	int64		orphan_next;	/* exit records: a ring, under set_lock */
	BpScOrphan	orphans[BP_SC_ORPHANS];
	Size		classes_off;	/* BpScClassPadded [set][instance][class] */
	Size		stats_off;		/* BpScProcStats [proc][set][class] */
} BpScShared;

typedef struct BpScCacheEntry
{
	BpShmAddr	addr;
	uint8	   *state;
} BpScCacheEntry;

typedef struct BpScCache
{
	int			n;
	BpScCacheEntry e[BP_SC_CACHE_MAX];
} BpScCache;

static BpScShared *BpSc = NULL;

static const uint16 bp_sc_sizes[BP_SC_N_CLASSES] = {
	8, 16, 32, 48, 64,
	80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512,
	576, 640, 704, 768, 832, 896, 960, 1024,
	1152, 1280, 1408, 1536, 1664, 1792, 1920, 2048,
	2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096
};

/* class of a size, by (size + 7) / 8 */
static uint8 bp_sc_lookup[BP_SC_MAX_SIZE / 8 + 1];
static bool bp_sc_lookup_ready = false;

/* this process's caches, per set (allocated at first use) */
static BpScCache *my_caches[BP_SC_MAX_SETS];
static BpScProcStats *my_stats = NULL;
static BpShmAddr my_slabs[BP_SC_MAX_SETS][BP_SC_N_CLASSES];	/* slabs I own */
static bool my_trimmed[BP_SC_MAX_SETS][BP_SC_N_CLASSES];	/* a cold class here */
static BpMemKey my_keys[BP_SC_MAX_SETS];	/* each set's object instrument */
static int64 my_start_objects[BP_SC_MAX_SETS];	/* my row's counts at first use */
static int64 my_start_bytes[BP_SC_MAX_SETS];
static bool exit_registered = false;

/*
 * This process's translations of slab addresses it has seen (a slab's
 * memory, a region page or a chunk-0 frame, stays mapped at the same
 * place for the life of the process): direct mapped, so a free finds its
 * slab without bp_shm_range_ok and bp_shm_ptr.  The header is checked on
 * every free anyway: the slab may have gone and its page be other memory.
 */
#define BP_SC_XLATE_SIZE	1024
typedef struct BpScXlate
{
	BpShmAddr	addr;
	BpScSlab   *slab;
} BpScXlate;
static BpScXlate bp_sc_xlate[BP_SC_XLATE_SIZE];

static BpMemKey key_objects = 0;
static BpMemKey key_slabs = 0;

static void bp_sc_lookup_init(void);

/* ---------- classes ---------- */

static void
bp_sc_lookup_init(void)
{
	int			i;
	int			c = 0;

	for (i = 0; i <= BP_SC_MAX_SIZE / 8; i++)
	{
		while (bp_sc_sizes[c] < i * 8)
			c++;
		bp_sc_lookup[i] = (uint8) c;
	}
	bp_sc_lookup_ready = true;
}

int
bp_sc_class_of(Size size)
{
	if (size > BP_SC_MAX_SIZE)
		return -1;
	if (unlikely(!bp_sc_lookup_ready))
		bp_sc_lookup_init();
	return bp_sc_lookup[(size + 7) >> 3];
}

int
bp_sc_class_size(int cls)
{
	return bp_sc_sizes[cls];
}

static inline int
bp_sc_cache_cap(int cls)
{
	int			size = bp_sc_sizes[cls];

	return size <= 1024 ? 32 : 16;
}

/* ---------- shared memory ---------- */

static inline int
bp_sc_n_procs(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

Size
bp_sc_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(BpScShared));

	size = add_size(size, PG_CACHE_LINE_SIZE);
	size = add_size(size, mul_size(sizeof(BpScClassPadded),
								   (Size) BP_SC_MAX_SETS * bp_instances * BP_SC_N_CLASSES));
	size = add_size(size, mul_size(sizeof(BpScProcStats),
								   mul_size(bp_sc_n_procs(), BP_SC_MAX_SETS * BP_SC_N_CLASSES)));
	return size;
}

static inline BpScClass *
bp_sc_class(int set, int instance, int cls)
{
	BpScClassPadded *a = (BpScClassPadded *) ((char *) BpSc + BpSc->classes_off);

	return &a[((Size) set * BpSc->n_instances + instance) * BP_SC_N_CLASSES + cls].c;
}

static inline BpScProcStats *
bp_sc_proc_stats(int procno)
{
	BpScProcStats *a = (BpScProcStats *) ((char *) BpSc + BpSc->stats_off);

	return &a[(Size) procno * BP_SC_MAX_SETS * BP_SC_N_CLASSES];
}

/* Called from the entry's startup hook with AddinShmemInitLock held. */
void
bp_sc_shmem_init(void)
{
	bool		found;
	Size		size = bp_sc_shmem_size();

	BpSc = ShmemInitStruct("bufpool_ext size classes", size, &found);
	if (!found)
	{
		int			s;
		int			i;
		int			c;

		memset(BpSc, 0, size);
		BpSc->n_instances = bp_instances;
		BpSc->n_procs = bp_sc_n_procs();
		BpSc->page_size = bp_page_size;
		BpSc->tranche = LWLockNewTrancheId();
		LWLockInitialize(&BpSc->set_lock, BpSc->tranche);
		BpSc->classes_off = TYPEALIGN(PG_CACHE_LINE_SIZE, (uintptr_t) BpSc + sizeof(BpScShared)) -
			(uintptr_t) BpSc;
		BpSc->stats_off = BpSc->classes_off + sizeof(BpScClassPadded) *
			(Size) BP_SC_MAX_SETS * bp_instances * BP_SC_N_CLASSES;
		BpSc->sets[BP_SC_SHARED].in_use = true;
		strlcpy(BpSc->sets[BP_SC_SHARED].name, "shared", BP_SC_NAME_LEN);
		/* the extension's own sets: created at first use, in these slots */
		BpSc->sets[BP_SC_LINES].reserved = true;
		strlcpy(BpSc->sets[BP_SC_LINES].name, "backend_memory", BP_SC_NAME_LEN);
		BpSc->sets[BP_SC_LEAKS].reserved = true;
		strlcpy(BpSc->sets[BP_SC_LEAKS].name, "memory_leaks", BP_SC_NAME_LEN);
		for (s = 0; s < BP_SC_MAX_SETS; s++)
			for (i = 0; i < bp_instances; i++)
				for (c = 0; c < BP_SC_N_CLASSES; c++)
				{
					BpScClass  *k = bp_sc_class(s, i, c);

					LWLockInitialize(&k->lock, BpSc->tranche);
					k->partial = k->all = BP_SHM_NULL;
				}
	}
	LWLockRegisterTranche(BpSc->tranche, "bufpool_ext_size_class");
}

/* ---------- slabs (class lock held unless said) ---------- */

static inline BpScSlab *
bp_sc_slab(BpShmAddr addr)
{
	return (BpScSlab *) bp_shm_ptr(addr);
}

static inline BpShmAddr
bp_sc_slab_of(BpShmAddr addr)
{
	return addr & ~(BpShmAddr) (BpSc->page_size - 1);
}

/* The links of list which (BP_SC_PARTIAL or BP_SC_ALL) in slab s. */
static inline BpScLinks *
bp_sc_links(BpScSlab *s, Size which)
{
	return (BpScLinks *) ((char *) s + which);
}

/* Push slab s at the head of list which, whose head is *head. */
static void
bp_sc_list_push(BpShmAddr *head, BpScSlab *s, Size which)
{
	BpScLinks  *l = bp_sc_links(s, which);

	l->prev = BP_SHM_NULL;
	l->next = *head;
	if (*head != BP_SHM_NULL)
		bp_sc_links(bp_sc_slab(*head), which)->prev = s->self;
	*head = s->self;
}

/* Take slab s off list which, whose head is *head. */
static void
bp_sc_list_remove(BpShmAddr *head, BpScSlab *s, Size which)
{
	BpScLinks  *l = bp_sc_links(s, which);

	if (l->prev != BP_SHM_NULL)
		bp_sc_links(bp_sc_slab(l->prev), which)->next = l->next;
	else
		*head = l->next;
	if (l->next != BP_SHM_NULL)
		bp_sc_links(bp_sc_slab(l->next), which)->prev = l->prev;
	l->prev = l->next = BP_SHM_NULL;
}

static void
bp_sc_partial_push(BpScClass *k, BpScSlab *s)
{
	bp_sc_list_push(&k->partial, s, BP_SC_PARTIAL);
	s->on_partial = true;
}

static void
bp_sc_partial_remove(BpScClass *k, BpScSlab *s)
{
	bp_sc_list_remove(&k->partial, s, BP_SC_PARTIAL);
	s->on_partial = false;
}

/* The instrument a set's slabs are charged to. */
static inline BpMemKey
bp_sc_slab_key(int set)
{
	return BpSc->sets[set].slab_key > 0 ? BpSc->sets[set].slab_key : key_slabs;
}

/* The instrument a set's objects are charged to when the caller gives none. */
static inline BpMemKey
bp_sc_object_key(int set)
{
	return BpSc->sets[set].key > 0 ? BpSc->sets[set].key : key_objects;
}

/* The objects a slab of class cls holds, and where they start. */
static void
bp_sc_slab_layout(int cls, int *n_objects, int *objects_off)
{
	int			size = bp_sc_sizes[cls];
	int			n = (BpSc->page_size - (int) offsetof(BpScSlab, state)) / (size + 1);

	while (n > 0 && (int) MAXALIGN(offsetof(BpScSlab, state) + n) + n * size > BpSc->page_size)
		n--;
	*n_objects = n;
	*objects_off = (int) MAXALIGN(offsetof(BpScSlab, state) + n);
}

/*
 * A new slab of class cls for (set, instance), from the buddy allocator
 * (no lock held); its objects free and chained.  BP_SHM_NULL with
 * BP_ALLOC_NO_OOM when there is no memory.
 */
static BpShmAddr
bp_sc_slab_new(int set, int instance, int cls, int flags, bool own)
{
	BpShmAddr	addr = bp_buddy_alloc(instance, BpSc->page_size, bp_sc_slab_key(set), flags);
	BpScSlab   *s;
	int			n;
	int			off;
	int			i;
	int			size = bp_sc_sizes[cls];

	if (addr == BP_SHM_NULL)
		return BP_SHM_NULL;
	if (bp_sc_slab_of(addr) != addr)
		elog(PANIC, "bufpool_ext: buddy block %llu of a page is not page aligned",
			 (unsigned long long) addr);
	s = bp_sc_slab(addr);
	bp_sc_slab_layout(cls, &n, &off);
	s->magic = BP_SC_MAGIC;
	s->set = (uint8) set;
	s->cls = (uint8) cls;
	s->instance = (uint8) instance;
	s->on_partial = false;
	s->owner = own ? MyProc->pgprocno + 1 : 0;
	s->n_objects = (uint16) n;
	s->n_free = (uint16) n;
	s->objects_off = (uint16) off;
	s->reciprocal = (uint32) (((UINT64CONST(1) << 32) + size - 1) / size);
	s->self = addr;
	s->partial_link.prev = s->partial_link.next = BP_SHM_NULL;
	s->all_link.prev = s->all_link.next = BP_SHM_NULL;
	memset(s->state, BP_SC_FREE, n);
	for (i = 0; i < n; i++)
		*(uint16 *) ((char *) s + off + i * size) = (uint16) (i + 1 < n ? i + 1 : BP_SC_NONE);
	s->free_head = 0;
	return addr;
}

/* Link new slab s into class k (lock held). */
static void
bp_sc_slab_link(BpScClass *k, BpScSlab *s)
{
	bp_sc_list_push(&k->all, s, BP_SC_ALL);
	k->slabs++;
	k->free_in_slabs += s->n_free;
	bp_sc_partial_push(k, s);
}

/* ---------- per-process caches ---------- */

/* Objects of set in use: allocations less frees, over every process's row. */
static int64
bp_sc_set_in_use(int set)
{
	int64		used = 0;
	int			p;
	int			c;

	for (p = 0; p < BpSc->n_procs; p++)
		for (c = 0; c < BP_SC_N_CLASSES; c++)
		{
			BpScProcStats *st = &bp_sc_proc_stats(p)[set * BP_SC_N_CLASSES + c];

			used += st->allocs - st->frees;
		}
	return used;
}

/* Objects in use and their bytes by this process's row, over set's classes. */
static void
bp_sc_my_net(int set, int64 *objects, int64 *bytes)
{
	int			cls;

	*objects = *bytes = 0;
	for (cls = 0; cls < BP_SC_N_CLASSES; cls++)
	{
		BpScProcStats *st = &my_stats[set * BP_SC_N_CLASSES + cls];

		*objects += st->allocs - st->frees;
		*bytes += st->bytes_requested;
	}
}

/*
 * At an exit by an error (a FATAL: a terminated session or worker, code
 * != 0), for each set: record the objects this process leaves behind.  A
 * process that ends normally may well leave objects for others (a
 * key-value store's entries outlive the session that wrote them); one
 * ended in the middle of its work most likely held some for itself.  An
 * on_shmem_exit callback, so that it runs after every before_shmem_exit
 * one (bp_backend_mem_exit frees the process's lines there).
 */
static void
bp_sc_record_orphans(int code, Datum arg)
{
	int			set;

	if (code == 0)
		return;

	for (set = 0; set < BP_SC_MAX_SETS; set++)
	{
		int64		objects;
		int64		bytes;
		BpScOrphan *o;

		/* the manager's leak rows pass to the next manager by design */
		if (my_caches[set] == NULL || set == BP_SC_LEAKS)
			continue;
		bp_sc_my_net(set, &objects, &bytes);
		objects -= my_start_objects[set];
		bytes -= my_start_bytes[set];
		if (objects <= 0)
			continue;
		LWLockAcquire(&BpSc->set_lock, LW_EXCLUSIVE);
		o = &BpSc->orphans[BpSc->orphan_next++ % BP_SC_ORPHANS];
		memset(o, 0, sizeof(*o));
		o->pid = MyProcPid;
		bp_my_backend_type(o->backend_type, sizeof(o->backend_type));
		o->set = set;
		strlcpy(o->set_name, BpSc->sets[set].name, sizeof(o->set_name));
		o->objects = objects;
		o->bytes = bytes;
		o->exited_at = GetCurrentTimestamp();
		LWLockRelease(&BpSc->set_lock);
	}
}

/*
 * The exit records whose set still holds at least their objects in use
 * (others are cleared: the objects were freed, or the set dropped), at
 * most max into out; returns how many.
 */
int
bp_sc_orphans(BpScOrphan *out, int max)
{
	BpScOrphan	copy[BP_SC_ORPHANS];
	bool		gone[BP_SC_ORPHANS] = {0};
	bool		any_gone = false;
	int			n = 0;
	int			i;

	if (BpSc == NULL)
		return 0;
	/* copy, then look at the sets without set_lock: it is taken alone */
	LWLockAcquire(&BpSc->set_lock, LW_SHARED);
	memcpy(copy, BpSc->orphans, sizeof(copy));
	LWLockRelease(&BpSc->set_lock);
	for (i = 0; i < BP_SC_ORPHANS; i++)
	{
		BpScOrphan *o = &copy[i];
		char		name[BP_SC_NAME_LEN];
		int64		used = 0;

		if (o->pid == 0)
			continue;
		if (bp_sc_set_name(o->set, name) && strcmp(name, o->set_name) == 0)
			used = bp_sc_set_in_use(o->set);
		if (used < o->objects)
			gone[i] = any_gone = true;
		else if (n < max)
			out[n++] = *o;
	}
	if (any_gone)
	{
		LWLockAcquire(&BpSc->set_lock, LW_EXCLUSIVE);
		for (i = 0; i < BP_SC_ORPHANS; i++)
			if (gone[i] && BpSc->orphans[i].pid == copy[i].pid &&
				BpSc->orphans[i].exited_at == copy[i].exited_at)
				BpSc->orphans[i].pid = 0;
		LWLockRelease(&BpSc->set_lock);
	}
	return n;
}

/* At exit: this process's objects back, and its slabs owned by nobody. */
static void
bp_sc_exit(int code, Datum arg)
{
	int			set;
	int			cls;
	int32		me = MyProc->pgprocno + 1;

	bp_sc_flush_cache();
	for (set = 0; set < BP_SC_MAX_SETS; set++)
		for (cls = 0; cls < BP_SC_N_CLASSES; cls++)
		{
			BpShmAddr	a = my_slabs[set][cls];
			BpScClass  *k;
			BpScSlab   *s;

			if (a == BP_SHM_NULL)
				continue;
			s = bp_sc_slab(a);
			if (s->magic != BP_SC_MAGIC || s->self != a || s->set != set || s->cls != cls)
				continue;
			k = bp_sc_class(set, s->instance, cls);
			LWLockAcquire(&k->lock, LW_EXCLUSIVE);
			if (s->magic == BP_SC_MAGIC && s->self == a && s->owner == me)
				s->owner = 0;
			LWLockRelease(&k->lock);
			my_slabs[set][cls] = BP_SHM_NULL;
		}
}

/* This process's cache of set, and its stats row; set up at first use. */
static BpScCache *
bp_sc_my_cache(int set)
{
	if (unlikely(my_caches[set] == NULL))
	{
		if (BpSc == NULL)
			bp_check_preloaded();
		if (MyProc == NULL || MyProc->pgprocno >= BpSc->n_procs)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("size-class pools can only be used by a process with a PGPROC")));
		if (!bp_sc_lookup_ready)
			bp_sc_lookup_init();
		if (key_objects == 0)
		{
			key_objects = bp_mem_register("memory/bufpool/size_class");
			key_slabs = bp_mem_register("memory/bufpool/size_class/slabs");
		}
		my_caches[set] = MemoryContextAllocZero(TopMemoryContext,
												sizeof(BpScCache) * BP_SC_N_CLASSES);
		my_keys[set] = bp_sc_object_key(set);
		/*
		 * The extension's own sets are cold in every process (a few objects
		 * now and then, trimmed after each burst): no process owns a slab
		 * of them, not even at its first refill, or each would hold one.
		 */
		if (BpSc->sets[set].reserved)
			memset(my_trimmed[set], true, sizeof(my_trimmed[set]));
		my_stats = bp_sc_proc_stats(MyProc->pgprocno);
		/* the row may hold a former process's counts: start from them */
		bp_sc_my_net(set, &my_start_objects[set], &my_start_bytes[set]);
		if (!exit_registered)
		{
			before_shmem_exit(bp_sc_exit, 0);
			on_shmem_exit(bp_sc_record_orphans, 0);
			exit_registered = true;
		}
	}
	return my_caches[set];
}

static inline int
bp_sc_my_instance(void)
{
	static int	my_pid = 0;
	static int	my_instance = 0;

	if (unlikely(my_pid != MyProcPid))
	{
		my_pid = MyProcPid;
		my_instance = MyProcPid % BpSc->n_instances;
	}
	return my_instance;
}

/*
 * Take objects of class cls for cache c from the slabs of (set, my
 * instance), up to half its capacity, making new slabs as needed.
 * Returns false (cache still empty) if there is no memory and flags has
 * BP_ALLOC_NO_OOM; else ERRORs.
 */
/*
 * The slab of class k a refill of this process takes objects from (class
 * lock held): the one it owns, else the first of the first few partial
 * slabs that nobody owns (it becomes ours), else the list's head.  Two
 * processes taking objects from one slab would write the same cache
 * lines of its state bytes at every allocation and free (measured: 8 to
 * 10 times slower per pair with two backends).  A class the process
 * trims (bp_sc_trim_cache: a consumer that allocates a few objects now
 * and then) owns no slab: it would hold a slab per process.  A slab's owner is only a
 * preference, given up when the slab runs out of free objects and when
 * the process exits.  Only with shared_ok the head of the list when every
 * slab looked at is another's (the caller could not make a new one).
 * NULL if there is no such slab.
 */
static BpScSlab *
bp_sc_refill_slab(BpScClass *k, int set, int cls, bool shared_ok)
{
	int32		me = MyProc->pgprocno + 1;
	BpShmAddr	mine = my_slabs[set][cls];
	BpShmAddr	a;
	int			tries = 0;

	if (mine != BP_SHM_NULL)
	{
		BpScSlab   *s = bp_sc_slab(mine);

		if (s->magic == BP_SC_MAGIC && s->self == mine && s->owner == me &&
			s->set == set && s->cls == cls && s->n_free > 0)
			return s;
		my_slabs[set][cls] = BP_SHM_NULL;
	}
	if (my_trimmed[set][cls])
		return k->partial != BP_SHM_NULL ? bp_sc_slab(k->partial) : NULL;
	for (a = k->partial; a != BP_SHM_NULL && tries < 8; tries++)
	{
		BpScSlab   *s = bp_sc_slab(a);

		if (s->owner == 0 || s->owner == me)
		{
			s->owner = me;
			my_slabs[set][cls] = a;
			return s;
		}
		a = s->partial_link.next;
	}
	return shared_ok && k->partial != BP_SHM_NULL ? bp_sc_slab(k->partial) : NULL;
}

/* not inlined: its frame (arrays, a stack guard) would weigh on every allocation */
static pg_noinline bool
bp_sc_refill(int set, int cls, BpScCache *c, int flags)
{
	int			instance = bp_sc_my_instance();
	BpScClass  *k = bp_sc_class(set, instance, cls);
	int			want = bp_sc_cache_cap(cls) / 2;
	int			size = bp_sc_sizes[cls];
	int			before = c->n;
	bool		shared_ok = false;

	bp_ensure_attached();
	for (;;)
	{
		bool		keep_making;
		BpScSlab   *s = NULL;
		bool		others_have = false;

		LWLockAcquire(&k->lock, LW_EXCLUSIVE);
		/* the first use here makes the kept slabs first */
		keep_making = !k->preallocated && k->slabs < bp_size_class_prealloc;
		if (!keep_making && bp_size_class_prealloc > 0)
			k->preallocated = true;
		while (!keep_making && c->n < want &&
			   (s != NULL || (s = bp_sc_refill_slab(k, set, cls, shared_ok)) != NULL))
		{
			int			i = s->free_head;
			char	   *obj = (char *) s + s->objects_off + i * size;

			s->free_head = *(uint16 *) obj;
			s->n_free--;
			k->free_in_slabs--;
			s->state[i] = BP_SC_CACHED;
			c->e[c->n].addr = s->self + (BpShmAddr) (s->objects_off + i * size);
			c->e[c->n].state = &s->state[i];
			c->n++;
			if (s->n_free == 0)
			{
				bp_sc_partial_remove(k, s);
				s->owner = 0;
				s = NULL;
			}
		}
		others_have = k->partial != BP_SHM_NULL;
		LWLockRelease(&k->lock);
		if (c->n > before)
			break;
		{
			/* with others' slabs to fall back on, a new one need not be had */
			bool		hot = !my_trimmed[set][cls];
			BpShmAddr	a = bp_sc_slab_new(set, instance, cls,
										   others_have ? flags | BP_ALLOC_NO_OOM : flags, hot);

			if (a == BP_SHM_NULL && others_have && !shared_ok)
			{
				shared_ok = true;
				continue;
			}
			if (a == BP_SHM_NULL)
				return false;
			LWLockAcquire(&k->lock, LW_EXCLUSIVE);
			bp_sc_slab_link(k, bp_sc_slab(a));
			LWLockRelease(&k->lock);
			if (hot)
				my_slabs[set][cls] = a;
		}
	}
	my_keys[set] = bp_sc_object_key(set);
	my_stats[set * BP_SC_N_CLASSES + cls].moved += c->n - before;
	return true;
}

/*
 * Give objects from the top of cache c back to their slabs until n are
 * left; slabs that empty go back to the buddy allocator, unless they are
 * among the kept ones.
 */
static pg_noinline void
bp_sc_drain(int set, int cls, BpScCache *c, int n)
{
	BpShmAddr	empty[BP_SC_CACHE_MAX];
	int			n_empty = 0;
	int			gone = c->n - n;
	int			size = bp_sc_sizes[cls];
	int			i;

	if (gone <= 0)
		return;
	bp_ensure_attached();
	while (c->n > n)
	{
		BpScCacheEntry *e = &c->e[c->n - 1];
		BpShmAddr	sa = bp_sc_slab_of(e->addr);
		BpScSlab   *s = bp_sc_slab(sa);
		BpScClass  *k = bp_sc_class(set, s->instance, cls);

		/* objects of one instance in a row under one hold of its lock */
		LWLockAcquire(&k->lock, LW_EXCLUSIVE);
		while (c->n > n)
		{
			int			idx;

			e = &c->e[c->n - 1];
			if (bp_sc_slab_of(e->addr) != sa)
			{
				sa = bp_sc_slab_of(e->addr);
				s = bp_sc_slab(sa);
				if (bp_sc_class(set, s->instance, cls) != k)
					break;
			}
			idx = (int) (e->state - s->state);
			*(uint16 *) ((char *) s + s->objects_off + idx * size) = s->free_head;
			s->free_head = (uint16) idx;
			*e->state = BP_SC_FREE;
			s->n_free++;
			k->free_in_slabs++;
			c->n--;
			if (s->n_free == 1 && !s->on_partial)
				bp_sc_partial_push(k, s);
			if (s->n_free == s->n_objects &&
				k->slabs > (k->preallocated ? bp_size_class_prealloc : 0))
			{
				bp_sc_partial_remove(k, s);
				bp_sc_list_remove(&k->all, s, BP_SC_ALL);
				k->slabs--;
				k->free_in_slabs -= s->n_objects;
				s->magic = 0;
				empty[n_empty++] = sa;
			}
		}
		LWLockRelease(&k->lock);
	}
	my_stats[set * BP_SC_N_CLASSES + cls].moved -= gone;
	for (i = 0; i < n_empty; i++)
		bp_buddy_free(empty[i], BpSc->page_size, bp_sc_slab_key(set));
}

/*
 * Give back this process's cached objects of the class of size in set, or
 * of every class of the set if size is 0: a consumer that allocates now
 * and then (bp_backend_mem_publish, once a second; the leak check) keeps
 * nothing idle between its bursts, and its classes do not count as hot
 * (no slab of its own).
 */
void
bp_sc_trim_cache(int set, Size size)
{
	int			cls = size == 0 ? 0 : bp_sc_class_of(size);
	int			last = size == 0 ? BP_SC_N_CLASSES - 1 : cls;

	if (cls < 0 || set < 0 || set >= BP_SC_MAX_SETS || my_caches[set] == NULL)
		return;
	for (; cls <= last; cls++)
	{
		my_trimmed[set][cls] = true;	/* a cold class: no slab of its own */
		bp_sc_drain(set, cls, &my_caches[set][cls], 0);
	}
}

/* Give every object of this process's caches back (at exit, or asked). */
void
bp_sc_flush_cache(void)
{
	int			set;
	int			cls;

	for (set = 0; set < BP_SC_MAX_SETS; set++)
		if (my_caches[set] != NULL)
			for (cls = 0; cls < BP_SC_N_CLASSES; cls++)
				bp_sc_drain(set, cls, &my_caches[set][cls], 0);
}

/* ---------- the API ---------- */

static void
bp_sc_check_set(int set)
{
	if (BpSc == NULL)
		bp_check_preloaded();
	if (set < 0 || set >= BP_SC_MAX_SETS || !BpSc->sets[set].in_use)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("size-class set %d does not exist", set)));
}

/*
 * An object of size bytes (1 .. BP_SC_MAX_SIZE from a class of set; more
 * from the buddy allocator), charged to key (memory/bufpool/size_class
 * when 0).  Out of memory: ERROR, or BP_SHM_NULL with BP_ALLOC_NO_OOM.
 * Free it with bp_sc_free and the same set and size.
 */
static pg_noinline BpShmAddr
bp_sc_alloc_slow(int set, Size size, BpMemKey key, int flags)
{
	BpScCache  *c;
	BpScCacheEntry *e;
	int			cls;

	if (unlikely(set < 0 || set >= BP_SC_MAX_SETS || my_caches[set] == NULL ||
				 !BpSc->sets[set].in_use))
	{
		bp_sc_check_set(set);
		(void) bp_sc_my_cache(set);
	}
	if (unlikely(size == 0 || size > BP_SC_MAX_SIZE))
	{
		if (size == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("size-class allocation of 0 bytes")));
		return bp_buddy_alloc(-1, size, key, flags);
	}
	cls = bp_sc_lookup[(size + 7) >> 3];
	c = &my_caches[set][cls];
	if (unlikely(c->n == 0) && !bp_sc_refill(set, cls, c, flags))
		return BP_SHM_NULL;
	e = &c->e[--c->n];
	*e->state = BP_SC_USED;
	{
		BpScProcStats *st = &my_stats[set * BP_SC_N_CLASSES + cls];

		st->allocs++;
		st->bytes_requested += (int64) size;
	}
	bp_mem_alloc(key > 0 ? key : my_keys[set], bp_sc_sizes[cls]);
	return e->addr;
}

/*
 * Free an object of bp_sc_alloc(set, size).  A wrong address or size, or
 * an object not in use (a double free), is an ERROR and changes nothing.
 */
static pg_noinline void
bp_sc_free_slow(int set, BpShmAddr addr, Size size, BpMemKey key)
{
	BpScCache  *c;
	BpScSlab   *s;
	BpShmAddr	sa;
	int			cls;
	uint32		off;
	uint32		idx;
	uint8		expected = BP_SC_USED;

	if (unlikely(set < 0 || set >= BP_SC_MAX_SETS || my_caches[set] == NULL ||
				 !BpSc->sets[set].in_use))
	{
		bp_sc_check_set(set);
		(void) bp_sc_my_cache(set);
	}
	if (unlikely(size == 0 || size > BP_SC_MAX_SIZE))
	{
		if (size == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("size-class free of 0 bytes at %llu", (unsigned long long) addr)));
		bp_buddy_free(addr, size, key);
		return;
	}
	cls = bp_sc_lookup[(size + 7) >> 3];
	sa = bp_sc_slab_of(addr);
	{
		BpScXlate  *x = &bp_sc_xlate[(sa >> 13 ^ sa >> 40) & (BP_SC_XLATE_SIZE - 1)];

		if (likely(x->addr == sa && sa != BP_SHM_NULL))
			s = x->slab;
		else
		{
			if (!bp_shm_range_ok(sa, BpSc->page_size))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%llu is not a size-class object: not in a slab",
								(unsigned long long) addr)));
			s = bp_sc_slab(sa);
			x->addr = sa;
			x->slab = s;
		}
	}
	if (s->magic != BP_SC_MAGIC || s->self != sa || s->set != set)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%llu is not an object of size-class set %d", (unsigned long long) addr, set)));
	if (s->cls != cls)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("object %llu is of the %d-byte class, not of size %zu's (%d bytes)",
						(unsigned long long) addr, bp_sc_sizes[s->cls], size, bp_sc_sizes[cls])));
	off = (uint32) (addr - sa) - s->objects_off;
	idx = (uint32) (((uint64) off * s->reciprocal) >> 32);
	if ((uint32) (addr - sa) < s->objects_off || idx >= s->n_objects ||
		idx * (uint32) bp_sc_sizes[cls] != off)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%llu is not the start of a %d-byte object",
						(unsigned long long) addr, bp_sc_sizes[cls])));
	if (!__atomic_compare_exchange_n(&s->state[idx], &expected, BP_SC_CACHED, false,
									 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("size-class object %llu is not in use (freed twice?)",
						(unsigned long long) addr)));
	c = &my_caches[set][cls];
	if (unlikely(c->n == bp_sc_cache_cap(cls)))
		bp_sc_drain(set, cls, c, c->n / 2);
	c->e[c->n].addr = addr;
	c->e[c->n].state = &s->state[idx];
	c->n++;
	{
		BpScProcStats *st = &my_stats[set * BP_SC_N_CLASSES + cls];

		st->frees++;
		st->bytes_requested -= (int64) size;
	}
	bp_mem_free(key > 0 ? key : my_keys[set], bp_sc_sizes[cls]);
}

/*
 * The common paths, kept small (no frame to speak of): an allocation
 * from a cache that has an object, a free of an object whose slab this
 * process has seen, into a cache with room.  Anything else, and any
 * check that fails, goes to the slow variant, which checks it all again
 * and says what is wrong; the compare-and-swap is the last step here, so
 * the slow variant sees the state it saw.
 */
BpShmAddr
bp_sc_alloc(int set, Size size, BpMemKey key, int flags)
{
	if (likely((unsigned) set < BP_SC_MAX_SETS && my_caches[set] != NULL &&
			   BpSc->sets[set].in_use && size - 1 < BP_SC_MAX_SIZE))
	{
		int			cls = bp_sc_lookup[(size + 7) >> 3];
		BpScCache  *c = &my_caches[set][cls];

		if (likely(c->n > 0))
		{
			BpScCacheEntry *e = &c->e[--c->n];
			BpScProcStats *st = &my_stats[set * BP_SC_N_CLASSES + cls];

			*e->state = BP_SC_USED;
			st->allocs++;
			st->bytes_requested += (int64) size;
			bp_mem_alloc(key > 0 ? key : my_keys[set], bp_sc_sizes[cls]);
			return e->addr;
		}
	}
	return bp_sc_alloc_slow(set, size, key, flags);
}

void
bp_sc_free(int set, BpShmAddr addr, Size size, BpMemKey key)
{
	if (likely((unsigned) set < BP_SC_MAX_SETS && my_caches[set] != NULL &&
			   BpSc->sets[set].in_use && size - 1 < BP_SC_MAX_SIZE))
	{
		int			cls = bp_sc_lookup[(size + 7) >> 3];
		BpShmAddr	sa = bp_sc_slab_of(addr);
		BpScXlate  *x = &bp_sc_xlate[(sa >> 13 ^ sa >> 40) & (BP_SC_XLATE_SIZE - 1)];
		BpScCache  *c = &my_caches[set][cls];

		if (likely(x->addr == sa && sa != BP_SHM_NULL && c->n < bp_sc_cache_cap(cls)))
		{
			BpScSlab   *s = x->slab;
			uint32		rel = (uint32) (addr - sa);
			uint32		off = rel - s->objects_off;
			uint32		idx = (uint32) (((uint64) off * s->reciprocal) >> 32);
			uint8		expected = BP_SC_USED;

			if (likely(s->magic == BP_SC_MAGIC && s->self == sa && s->set == set &&
					   s->cls == cls && rel >= s->objects_off && idx < s->n_objects &&
					   idx * (uint32) bp_sc_sizes[cls] == off) &&
				likely(__atomic_compare_exchange_n(&s->state[idx], &expected, BP_SC_CACHED,
												   false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)))
			{
				BpScProcStats *st = &my_stats[set * BP_SC_N_CLASSES + cls];

				c->e[c->n].addr = addr;
				c->e[c->n].state = &s->state[idx];
				c->n++;
				st->frees++;
				st->bytes_requested -= (int64) size;
				bp_mem_free(key > 0 ? key : my_keys[set], bp_sc_sizes[cls]);
				return;
			}
		}
	}
	bp_sc_free_slow(set, addr, size, key);
}

/* ---------- sets ---------- */

static void
bp_sc_check_name(const char *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) >= BP_SC_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("size-class set name \"%s\" must be 1 to %d bytes",
						name ? name : "", BP_SC_NAME_LEN - 1)));
	if (strlen(name) > BP_MEM_NAME_LEN - sizeof("memory/bufpool/size_class_set//slabs"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("size-class set name \"%s\" is too long for its instruments: at most %d bytes",
						name, (int) (BP_MEM_NAME_LEN - sizeof("memory/bufpool/size_class_set//slabs")))));
}

/* The set named name, or -1. */
int
bp_sc_set_find(const char *name)
{
	int			s;
	int			found = -1;

	bp_sc_check_name(name);
	if (BpSc == NULL)
		bp_check_preloaded();
	LWLockAcquire(&BpSc->set_lock, LW_SHARED);
	for (s = 0; s < BP_SC_MAX_SETS; s++)
		if (BpSc->sets[s].in_use && strcmp(BpSc->sets[s].name, name) == 0)
			found = s;
	LWLockRelease(&BpSc->set_lock);
	return found;
}

/*
 * The set named name, created if it does not exist (for the extension's
 * own consumers, which any process may be the first to use).
 */
int
bp_sc_set_get(const char *name)
{
	int			set = bp_sc_set_find(name);
	MemoryContext cxt = CurrentMemoryContext;

	if (set >= 0)
		return set;
	PG_TRY();
	{
		set = bp_sc_set_create(name);
	}
	PG_CATCH();
	{
		/* another process created it meanwhile: ERROR 42710 */
		MemoryContextSwitchTo(cxt);
		set = bp_sc_set_find(name);
		if (set < 0)
			PG_RE_THROW();
		FlushErrorState();
	}
	PG_END_TRY();
	return set;
}

/* A new set of classes named name (ERROR if taken, or no room). */
int
bp_sc_set_create(const char *name)
{
	int			s;
	int			slot = -1;
	char		key_name[BP_MEM_NAME_LEN];
	BpMemKey	key;
	BpMemKey	slab_key;

	bp_sc_check_name(name);
	if (BpSc == NULL)
		bp_check_preloaded();
	/* the set's instrument (registered first: it takes a lock of its own) */
	snprintf(key_name, sizeof(key_name), "memory/bufpool/size_class_set/%s", name);
	key = bp_mem_register(key_name);
	snprintf(key_name, sizeof(key_name), "memory/bufpool/size_class_set/%s/slabs", name);
	slab_key = bp_mem_register(key_name);
	LWLockAcquire(&BpSc->set_lock, LW_EXCLUSIVE);
	for (s = 0; s < BP_SC_MAX_SETS; s++)
	{
		if (BpSc->sets[s].in_use && strcmp(BpSc->sets[s].name, name) == 0)
		{
			LWLockRelease(&BpSc->set_lock);
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("size-class set \"%s\" already exists", name)));
		}
		if (BpSc->sets[s].reserved && !BpSc->sets[s].in_use &&
			strcmp(BpSc->sets[s].name, name) == 0)
			slot = s;			/* one of the extension's own, in its slot */
	}
	for (s = 0; s < BP_SC_MAX_SETS && slot < 0; s++)
		if (!BpSc->sets[s].in_use && !BpSc->sets[s].reserved)
			slot = s;
	if (slot < 0)
	{
		LWLockRelease(&BpSc->set_lock);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("no room for size-class set \"%s\": at most %d sets", name, BP_SC_MAX_SETS),
				 errdetail("Three are bufpool_ext's own (shared, backend_memory, memory_leaks); drop a named set with bp_size_classes_drop.")));
	}
	BpSc->sets[slot].in_use = true;
	strlcpy(BpSc->sets[slot].name, name, BP_SC_NAME_LEN);
	BpSc->sets[slot].key = key;
	BpSc->sets[slot].slab_key = slab_key;
	LWLockRelease(&BpSc->set_lock);
	return slot;
}

/*
 * Drop a set: ERROR if it is the shared one or has objects in use.  Its
 * slabs go back to the buddy allocator once every process's cache of it
 * is empty: this process's is flushed; others' objects go back to their
 * slabs as those processes flush (the slabs stay until then).
 */
void
bp_sc_set_drop(int set)
{
	int64		used;
	int			i;
	int			c;

	bp_sc_check_set(set);
	if (set == BP_SC_SHARED)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the shared size-class set cannot be dropped")));
	if (BpSc->sets[set].reserved)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("size-class set \"%s\" is bufpool_ext's own and cannot be dropped",
						BpSc->sets[set].name)));
	if (my_caches[set] != NULL)
		for (c = 0; c < BP_SC_N_CLASSES; c++)
			bp_sc_drain(set, c, &my_caches[set][c], 0);
	used = bp_sc_set_in_use(set);
	if (used != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("size-class set \"%s\" has %lld objects in use",
						BpSc->sets[set].name, (long long) used)));
	LWLockAcquire(&BpSc->set_lock, LW_EXCLUSIVE);
	BpSc->sets[set].in_use = false;
	LWLockRelease(&BpSc->set_lock);
	for (i = 0; i < BpSc->n_instances; i++)
		for (c = 0; c < BP_SC_N_CLASSES; c++)
		{
			BpScClass  *k = bp_sc_class(set, i, c);

			LWLockAcquire(&k->lock, LW_EXCLUSIVE);
			k->preallocated = false;
			LWLockRelease(&k->lock);
		}
}

bool
bp_sc_set_name(int set, char *name)
{
	bool		in_use;

	if (BpSc == NULL)
		bp_check_preloaded();
	LWLockAcquire(&BpSc->set_lock, LW_SHARED);
	in_use = BpSc->sets[set].in_use;
	strlcpy(name, BpSc->sets[set].name, BP_SC_NAME_LEN);
	LWLockRelease(&BpSc->set_lock);
	return in_use;
}

/* ---------- views and checks ---------- */

void
bp_sc_stats(int set, int cls, BpScClassStats *out)
{
	int			i;
	int			p;
	int			n;
	int			off;
	int64		capacity;

	memset(out, 0, sizeof(*out));
	if (BpSc == NULL)
		bp_check_preloaded();
	bp_sc_slab_layout(cls, &n, &off);
	out->class_size = bp_sc_sizes[cls];
	out->objects_per_slab = n;
	for (i = 0; i < BpSc->n_instances; i++)
	{
		BpScClass  *k = bp_sc_class(set, i, cls);

		LWLockAcquire(&k->lock, LW_SHARED);
		out->slabs += k->slabs;
		LWLockRelease(&k->lock);
	}
	for (p = 0; p < BpSc->n_procs; p++)
	{
		BpScProcStats *st = &bp_sc_proc_stats(p)[set * BP_SC_N_CLASSES + cls];

		out->alloc_count += st->allocs;
		out->free_count += st->frees;
		out->bytes_requested += st->bytes_requested;
		out->objects_cached += st->moved - st->allocs + st->frees;
	}
	capacity = out->slabs * n;
	out->objects_used = out->alloc_count - out->free_count;
	out->objects_free = capacity - out->objects_used;
}

/*
 * Walk every slab of set under its class's lock: the lists, counts and
 * state bytes agree, and every free list is a chain of FREE objects.
 * Returns the slabs walked; writes the first violation into why and
 * returns -1.  Objects in use or cached are not counted against
 * processes' counts (those change without the lock).
 */
int64
bp_sc_verify(int set, char *why, Size why_len)
{
	int64		walked = 0;
	int			i;
	int			c;
	int64		result = 0;

	bp_sc_check_set(set);
	bp_ensure_attached();
	why[0] = '\0';
	for (i = 0; i < BpSc->n_instances && result == 0; i++)
		for (c = 0; c < BP_SC_N_CLASSES && result == 0; c++)
		{
			BpScClass  *k = bp_sc_class(set, i, c);
			BpShmAddr	a;
			int64		slabs = 0;
			int64		free_in = 0;
			int64		on_partial = 0;
			int			size = bp_sc_sizes[c];

			LWLockAcquire(&k->lock, LW_EXCLUSIVE);
			for (a = k->all; a != BP_SHM_NULL && result == 0; a = bp_sc_slab(a)->all_link.next)
			{
				BpScSlab   *s = bp_sc_slab(a);
				int			n_free_state = 0;
				int			chain = 0;
				int			j;

				slabs++;
				if (s->magic != BP_SC_MAGIC || s->self != a || s->cls != c || s->set != set ||
					s->instance != i)
				{
					snprintf(why, why_len, "slab %llu of class %d: bad header",
							 (unsigned long long) a, size);
					result = -1;
					break;
				}
				for (j = 0; j < s->n_objects; j++)
				{
					if (s->state[j] > BP_SC_USED)
					{
						snprintf(why, why_len, "slab %llu: object %d in state %d",
								 (unsigned long long) a, j, s->state[j]);
						result = -1;
					}
					n_free_state += s->state[j] == BP_SC_FREE;
				}
				for (j = s->free_head; j != BP_SC_NONE && chain <= s->n_objects; chain++)
				{
					if (j >= s->n_objects || s->state[j] != BP_SC_FREE)
					{
						snprintf(why, why_len, "slab %llu: free list reaches object %d not free",
								 (unsigned long long) a, j);
						result = -1;
						break;
					}
					j = *(uint16 *) ((char *) s + s->objects_off + j * size);
				}
				if (result == 0 && (chain != s->n_free || n_free_state != s->n_free ||
									s->on_partial != (s->n_free > 0)))
				{
					snprintf(why, why_len, "slab %llu of class %d: %d free in its list, %d free states, n_free %d, on_partial %d",
							 (unsigned long long) a, size, chain, n_free_state, s->n_free,
							 (int) s->on_partial);
					result = -1;
				}
				free_in += s->n_free;
				on_partial += s->on_partial;
			}
			if (result == 0)
			{
				int64		listed = 0;

				for (a = k->partial; a != BP_SHM_NULL && listed <= slabs; a = bp_sc_slab(a)->partial_link.next)
					listed++;
				if (slabs != k->slabs || free_in != k->free_in_slabs || listed != on_partial)
				{
					snprintf(why, why_len, "class %d of instance %d: %lld slabs walked (%lld counted), %lld free (%lld counted), %lld on the partial list (%lld marked)",
							 size, i, (long long) slabs, (long long) k->slabs,
							 (long long) free_in, (long long) k->free_in_slabs,
							 (long long) listed, (long long) on_partial);
					result = -1;
				}
			}
			LWLockRelease(&k->lock);
			walked += slabs;
		}
	return result < 0 ? -1 : walked;
}

/* ---------- the public API (bufpool.h) ---------- */

int
bp_size_classes_create(const char *name)
{
	return bp_sc_set_create(name);
}

int
bp_size_classes_find(const char *name)
{
	return bp_sc_set_find(name);
}

void
bp_size_classes_drop(int set)
{
	bp_sc_set_drop(set);
}

BpShmAddr
bp_shm_alloc(int set, Size size)
{
	return bp_sc_alloc(set, size, 0, 0);
}

void
bp_shm_free(int set, BpShmAddr addr, Size size)
{
	bp_sc_free(set, addr, size, 0);
}

/*-------------------------------------------------------------------------
 *
 * bufpool_kv.c
 *	  A persistent key-value store on bufpool_ext pages: a B+tree in a
 *	  bufpool space, built against bufpool_ext's installed public header
 *	  only, as any extension outside the project would be.
 *
 * Layout.  A store is the bufpool space "kv_<name>".  Page 0 is the meta
 * page (magic, root, height, next free page, and a list of free pages),
 * page 1 the counter page (the key count).  Every other page in use is a
 * node or an overflow page.  A node is a small header, then a slotted
 * page: item offsets growing up from the header, items growing down from
 * the end.  A leaf item is (key length, value length, overflow page, key,
 * value); an inner item is (key length, child, key), and an inner node's
 * header holds its leftmost child: child i covers the keys from key i up
 * to key i+1.  Leaves are chained left to right for the scan.  Keys
 * compare as bytes (memcmp, then length).  A value larger than a quarter
 * page lives in a chain of at most KV_MAX_OVERFLOW overflow pages, and
 * its leaf item keeps only the key and the chain's first page; pages of
 * chains that are replaced or deleted go to the meta page's free list and
 * are used again.  A removed item leaves garbage in its node, which a
 * compaction takes back when an insert needs the room; deletes do not
 * merge nodes.
 *
 * Changes.  A put or delete is one mini-transaction (bufpool.h), made one
 * of two ways.  The common one (kv_change_optimistic): the meta page
 * share-locked, the inner nodes share-locked with lock coupling, the leaf
 * exclusively; the change fits the leaf, a value no larger than the old
 * one is written over it (the redo is the value's bytes), and an insert
 * or delete adds to the count on the counter page, the last page locked.
 * Writers of different leaves run side by side.  When the leaf must
 * split, or overflow pages are made or freed, that attempt is abandoned
 * unchanged and kv_change_pessimistic takes the meta page and the whole
 * path exclusively: a split makes a new page with bp_mtr_fetch_new, moves
 * the upper half of the items there (90% stay when the new item is the
 * last of the rightmost leaf or of an inner node, so an ascending load
 * fills its pages, as PostgreSQL's B-tree does) and inserts the separator
 * into the parent, splitting upward as needed, the root last (a new root
 * above it).  The whole change commits as one group of redo records:
 * recovery applies all of it or none.  A put is then as durable as
 * bufpool_ext.flush_log_at_commit makes it (bp_log_commit, after the
 * commit, with no page locked).
 *
 * Reads lock the meta page in share mode, then go down with lock
 * coupling (the child locked before the parent is released), and read an
 * overflow chain with its leaf locked.  kv_check locks the meta page
 * exclusively, so no change is under way while it walks the tree.  Lock
 * order: meta, then parent before child, left before right, a leaf before
 * its overflow pages, the counter page last: the same in every path, so
 * no two sessions wait for each other in a cycle.  The content locks
 * favour no side: a structural change waits for a moment when no
 * optimistic writer holds the meta page.
 *
 * Room: before a structural change, with no page locked, the space is
 * extended when fewer free pages are left than a split all the way up
 * and an overflow chain could take, as bufpool.h asks (bp_space_extend
 * holds no page lock).
 *
 * IDENTIFICATION
 *	  examples/bufpool_kv/bufpool_kv.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "extension/bufpool_ext/bufpool.h"

#if BUFPOOL_EXT_VERSION_NUM < 10900
#error "bufpool_kv needs the C API of bufpool_ext 1.9 or later"
#endif

PG_MODULE_MAGIC;

void		_PG_init(void);

#define KV_MAGIC		0x6B767432	/* "kvt2" */
#define KV_MAX_KEY		256
#define KV_MAX_HEIGHT	5			/* see kv_change_pessimistic */
#define KV_MAX_OVERFLOW 2			/* overflow pages of one value */
#define KV_GROW_PAGES	64			/* pages added at a time */

#define KV_META_PAGE	0
#define KV_COUNT_PAGE	1
#define KV_FIRST_ROOT	2

typedef struct KvMeta
{
	uint32		magic;
	uint32		root;
	uint32		height;			/* 1: the root is a leaf */
	uint32		next_free;		/* pages below it are in use or in free[] */
	uint32		space_pages;	/* the space's size, as the store extended it */
	uint32		n_free;			/* free pages listed in free[] */
	uint32		leaked;			/* pages freed while free[] was full */
	uint32		pad;
	uint32		free[FLEXIBLE_ARRAY_MEMBER];	/* overflow pages given back */
} KvMeta;

/* page 1: the key count, changed by every insert and delete */
typedef struct KvCounter
{
	int64		count;
} KvCounter;

typedef struct KvNode
{
	uint16		level;			/* 0: leaf */
	uint16		n_items;
	uint16		upper;			/* start of the item area */
	uint16		garbage;		/* bytes of removed items in the item area */
	uint32		right;			/* next leaf, 0: none */
	uint32		leftmost;		/* inner: child below the first key */
	uint16		slots[FLEXIBLE_ARRAY_MEMBER];	/* item offsets, in key order */
} KvNode;

#define KV_NODE_HDR		offsetof(KvNode, slots)

/*
 * An item, at its slot's offset in the payload.  A leaf item whose child
 * is not 0 keeps its value (val_len bytes) in a chain of overflow pages
 * starting at page child; otherwise the value follows the key.
 */
typedef struct KvItem
{
	uint16		key_len;
	uint16		val_len;		/* leaf: value length */
	uint32		child;			/* inner: child page; leaf: first overflow page */
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* key, then an inline value */
} KvItem;

#define KV_ITEM_HDR		offsetof(KvItem, data)

typedef struct KvOverflow
{
	uint32		next;			/* next page of the chain, 0: the last */
	uint32		len;			/* value bytes on this page */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} KvOverflow;

/* an item to place, from wherever it is; val NULL: nothing inline */
typedef struct KvTmpItem
{
	const char *key;
	int			key_len;
	const char *val;
	int			val_len;
	uint32		child;
} KvTmpItem;

static int	payload_size;

PG_FUNCTION_INFO_V1(kv_create);
PG_FUNCTION_INFO_V1(kv_put);
PG_FUNCTION_INFO_V1(kv_get);
PG_FUNCTION_INFO_V1(kv_delete);
PG_FUNCTION_INFO_V1(kv_count);
PG_FUNCTION_INFO_V1(kv_scan);
PG_FUNCTION_INFO_V1(kv_check);
PG_FUNCTION_INFO_V1(kv_stats);

void
_PG_init(void)
{
	bp_api_require("bufpool_kv");
}

/* ---------------------------------------------------------------- nodes */

static inline KvItem *
kv_item(KvNode *n, int i)
{
	return (KvItem *) ((char *) n + n->slots[i]);
}

static inline int
kv_item_size(int key_len, int inline_len)
{
	return MAXALIGN(KV_ITEM_HDR + key_len + inline_len);
}

/* value bytes kept in the item itself */
static inline int
kv_item_inline(const KvItem *it)
{
	return it->child != 0 ? 0 : it->val_len;
}

static inline int
kv_item_bytes(const KvItem *it)
{
	return kv_item_size(it->key_len, kv_item_inline(it));
}

static inline int
kv_tmp_size(const KvTmpItem *t)
{
	return kv_item_size(t->key_len, t->val != NULL ? t->val_len : 0);
}

static inline KvTmpItem
kv_tmp_of(KvItem *it)
{
	KvTmpItem	t = {it->data, it->key_len, it->child == 0 ? it->data + it->key_len : NULL,
	it->val_len, it->child};

	return t;
}

/* bytes between the slot array and the item area */
static inline int
kv_free_space(KvNode *n)
{
	return n->upper - (int) (KV_NODE_HDR + sizeof(uint16) * n->n_items);
}

/* bytes a compaction would make free */
static inline int
kv_room(KvNode *n)
{
	return kv_free_space(n) + n->garbage;
}

static void
kv_node_init(KvNode *n, int level)
{
	memset(n, 0, payload_size);
	n->level = (uint16) level;
	n->upper = (uint16) payload_size;
}

static int
kv_keycmp(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	return c != 0 ? c : alen - blen;
}

/*
 * First slot whose key is >= key (n_items if none); *found if equal.
 */
static int
kv_search(KvNode *n, const char *key, int len, bool *found)
{
	int			lo = 0;
	int			hi = n->n_items;

	*found = false;
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;
		KvItem	   *it = kv_item(n, mid);
		int			c = kv_keycmp(it->data, it->key_len, key, len);

		if (c < 0)
			lo = mid + 1;
		else
		{
			if (c == 0)
				*found = true;
			hi = mid;
		}
	}
	return lo;
}

/* The child of inner node n that covers key. */
static uint32
kv_child_for(KvNode *n, const char *key, int len)
{
	bool		found;
	int			i = kv_search(n, key, len, &found);

	if (found)
		return kv_item(n, i)->child;
	return i == 0 ? n->leftmost : kv_item(n, i - 1)->child;
}

/* Put item t at slot i; the caller made sure it fits between slots and items. */
static void
kv_insert_at(KvNode *n, int i, const KvTmpItem *t)
{
	int			inline_len = t->val != NULL ? t->val_len : 0;
	KvItem	   *it;

	n->upper -= kv_tmp_size(t);
	it = (KvItem *) ((char *) n + n->upper);
	it->key_len = (uint16) t->key_len;
	it->val_len = (uint16) t->val_len;
	it->child = t->child;
	memcpy(it->data, t->key, t->key_len);
	if (inline_len > 0)
		memcpy(it->data + t->key_len, t->val, inline_len);
	memmove(&n->slots[i + 1], &n->slots[i], sizeof(uint16) * (n->n_items - i));
	n->slots[i] = n->upper;
	n->n_items++;
}

/*
 * Remove the item at slot i: only its slot goes, its bytes become
 * garbage until a compaction, so the change (and its redo) stays small.
 */
static void
kv_remove_at(KvNode *n, int i)
{
	n->garbage += kv_item_bytes(kv_item(n, i));
	memmove(&n->slots[i], &n->slots[i + 1], sizeof(uint16) * (n->n_items - i - 1));
	n->n_items--;
}

/* Rewrite n with its items packed at the end (garbage 0). */
static void
kv_compact(KvNode *n)
{
	char	   *copy = palloc(payload_size);
	KvNode	   *c = (KvNode *) copy;
	int			i;

	memcpy(copy, n, payload_size);
	kv_node_init(n, c->level);
	n->right = c->right;
	n->leftmost = c->leftmost;
	for (i = 0; i < c->n_items; i++)
	{
		KvTmpItem	t = kv_tmp_of(kv_item(c, i));

		kv_insert_at(n, i, &t);
	}
	pfree(copy);
}

/* Put t at slot i, compacting first if need be; the caller checked kv_room. */
static void
kv_place(KvNode *n, int i, const KvTmpItem *t)
{
	if (kv_free_space(n) < kv_tmp_size(t) + (int) sizeof(uint16))
		kv_compact(n);
	kv_insert_at(n, i, t);
}

/*
 * Put t into leaf n at slot (in place of the item there if found) when it
 * fits; false, n unchanged, when n must split.  A value no larger than
 * the old one is written over it: only the value's bytes change.
 */
static bool
kv_leaf_put(KvNode *n, int slot, bool found, const KvTmpItem *t)
{
	int			size = kv_tmp_size(t);

	if (found)
	{
		KvItem	   *old = kv_item(n, slot);
		int			old_size = kv_item_bytes(old);

		if (size <= old_size)
		{
			if (t->val != NULL && t->val_len > 0)
				memcpy(old->data + old->key_len, t->val, t->val_len);
			old->val_len = (uint16) t->val_len;
			old->child = t->child;
			n->garbage += old_size - size;
			return true;
		}
		if (kv_room(n) + old_size < size)
			return false;
		kv_remove_at(n, slot);
	}
	else if (kv_room(n) < size + (int) sizeof(uint16))
		return false;
	kv_place(n, slot, t);
	return true;
}

/*
 * Split full node n, placing item *add at slot: n keeps the first items
 * (about half the bytes, or 90% when *add comes last in the rightmost
 * leaf or in an inner node), new node r (page right_no) gets the rest.  A
 * leaf's separator is r's first key (the leaves are chained n -> r); an
 * inner node's is the middle key, which moves up, its child becoming r's
 * leftmost.  The separator goes to sep (KV_MAX_KEY bytes), which *add's
 * key may point into.
 */
static void
kv_split(KvNode *n, KvNode *r, uint32 right_no, int slot, const KvTmpItem *add,
		 char *sep, int *sep_len)
{
	char	   *copy = palloc(payload_size);
	KvNode	   *c = (KvNode *) copy;
	int			count = n->n_items + 1;
	KvTmpItem  *items = palloc(sizeof(KvTmpItem) * count);
	int			total = 0;
	int			acc = 0;
	int			target;
	int			m;
	int			i;
	int			j = 0;
	bool		leaf = n->level == 0;
	char		sepbuf[KV_MAX_KEY];

	memcpy(copy, n, payload_size);
	for (i = 0; i <= c->n_items; i++)
	{
		if (i == slot)
			items[j++] = *add;
		if (i < c->n_items)
			items[j++] = kv_tmp_of(kv_item(c, i));
	}
	for (i = 0; i < count; i++)
		total += kv_tmp_size(&items[i]) + sizeof(uint16);
	/*
	 * Half the bytes each, but when the new item is the last of the
	 * rightmost leaf, or of an inner node (keys put in ascending order), n
	 * keeps 90%, as PostgreSQL's B-tree does for its rightmost page: an
	 * ascending load fills its pages.
	 */
	target = slot == c->n_items && (!leaf || c->right == 0) ? total / 10 * 9 : total / 2;
	for (m = 0; m < count - 1; m++)
	{
		acc += kv_tmp_size(&items[m]) + sizeof(uint16);
		if (acc >= target)
			break;
	}
	m = Max(m, 1);				/* both halves have an item */
	memcpy(sepbuf, items[m].key, items[m].key_len);
	*sep_len = items[m].key_len;

	kv_node_init(n, c->level);
	kv_node_init(r, c->level);
	for (i = 0; i < m; i++)
		kv_insert_at(n, n->n_items, &items[i]);
	for (i = leaf ? m : m + 1; i < count; i++)
		kv_insert_at(r, r->n_items, &items[i]);
	if (leaf)
	{
		r->right = c->right;
		n->right = right_no;
	}
	else
	{
		n->leftmost = c->leftmost;
		r->leftmost = items[m].child;
	}
	memcpy(sep, sepbuf, *sep_len);
	pfree(items);
	pfree(copy);
}

/* ---------------------------------------------------------------- pages */

static int
kv_overflow_cap(void)
{
	return payload_size - (int) offsetof(KvOverflow, data);
}

/*
 * The largest value kept in its leaf: an item of at most a quarter of a
 * page, so that a split by bytes always leaves both halves with room
 * (each at most half the items plus one).  Larger values go to overflow
 * pages.
 */
static int
kv_max_inline(void)
{
	return (payload_size - (int) KV_NODE_HDR) / 4 - (int) sizeof(uint16) -
		MAXALIGN(KV_ITEM_HDR + KV_MAX_KEY) - MAXIMUM_ALIGNOF;
}

static int
kv_max_value(void)
{
	return Min(KV_MAX_OVERFLOW * kv_overflow_cap(), PG_UINT16_MAX);
}

static int
kv_meta_free_cap(void)
{
	return (payload_size - (int) offsetof(KvMeta, free)) / (int) sizeof(uint32);
}

/* A page for a new node or overflow page: a freed one, else a new one. */
static uint32
kv_alloc_page(KvMeta *meta)
{
	if (meta->n_free > 0)
		return meta->free[--meta->n_free];
	return meta->next_free++;
}

static void
kv_free_page(KvMeta *meta, uint32 pg)
{
	if (meta->n_free < (uint32) kv_meta_free_cap())
		meta->free[meta->n_free++] = pg;
	else
		meta->leaked++;
}

static void
kv_check_magic(const KvMeta *meta, uint32 space)
{
	if (meta->magic != KV_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("bufpool space %u is not a key-value store of this version", space)));
}

static void
kv_overflow_corrupt(uint32 space, uint32 pg)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("key-value store in bufpool space %u: overflow chain broken at page %u",
					space, pg)));
}

/*
 * Copy a value of len bytes from the overflow chain at page pg into dst
 * (the leaf that points to it is locked by the caller); with dst NULL,
 * only follow and check the chain.  Calls visit(pg, arg) for every page.
 */
static void
kv_read_overflow(uint32 space, uint32 pg, char *dst, int len,
				 void (*visit) (uint32 pg, void *arg), void *arg)
{
	int			got = 0;
	int			k = 0;

	while (pg != 0)
	{
		BpPage		p = bp_page_fetch(space, pg, NULL);
		KvOverflow *o;
		uint32		next;

		bp_page_lock(p, BP_LOCK_SHARE);
		o = (KvOverflow *) bp_page_data(p);
		if (k++ >= KV_MAX_OVERFLOW || o->len > (uint32) kv_overflow_cap() ||
			got + (int) o->len > len)
			kv_overflow_corrupt(space, pg);
		if (dst != NULL)
			memcpy(dst + got, o->data, o->len);
		got += o->len;
		next = o->next;
		bp_page_release(p);
		if (visit != NULL)
			visit(pg, arg);
		pg = next;
	}
	if (got != len)
		kv_overflow_corrupt(space, pg);
}

static void
kv_free_visit(uint32 pg, void *arg)
{
	kv_free_page((KvMeta *) arg, pg);
}

/* Write val into new overflow pages of the mini-transaction; returns the first. */
static uint32
kv_write_overflow(BpMtr *mtr, uint32 space, KvMeta *meta, const char *val, int len)
{
	int			cap = kv_overflow_cap();
	int			k = (len + cap - 1) / cap;
	uint32		pages[KV_MAX_OVERFLOW];
	int			i;

	Assert(k >= 1 && k <= KV_MAX_OVERFLOW);
	for (i = 0; i < k; i++)
		pages[i] = kv_alloc_page(meta);
	for (i = 0; i < k; i++)
	{
		KvOverflow *o = (KvOverflow *) bp_page_data(bp_mtr_fetch_new(mtr, space, pages[i]));

		o->next = i + 1 < k ? pages[i + 1] : 0;
		o->len = (uint32) Min(cap, len - i * cap);
		memcpy(o->data, val + i * cap, o->len);
	}
	return pages[0];
}

/* The value of leaf item it as a bytea (the leaf is locked by the caller). */
static bytea *
kv_item_value(uint32 space, KvItem *it)
{
	bytea	   *v = palloc(VARHDRSZ + it->val_len);

	SET_VARSIZE(v, VARHDRSZ + it->val_len);
	if (it->child == 0)
		memcpy(VARDATA(v), it->data + it->key_len, it->val_len);
	else
		kv_read_overflow(space, it->child, VARDATA(v), it->val_len, NULL, NULL);
	return v;
}

/* ---------------------------------------------------------------- stores */

static uint32
kv_space(text *name, bool missing_ok)
{
	char		sname[NAMEDATALEN];
	char	   *n = text_to_cstring(name);
	uint32		id;

	if (strlen(n) < 1 || strlen(n) > 60)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key-value store name \"%s\"", n),
				 errdetail("A store name has 1 to 60 bytes.")));
	snprintf(sname, sizeof(sname), "kv_%s", n);
	id = bp_space_find(sname);
	if (id == 0 && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("key-value store \"%s\" does not exist", n)));
	payload_size = bp_page_payload_size();
	return id;
}

static void
kv_check_key(text *key)
{
	int			len = VARSIZE_ANY_EXHDR(key);

	if (len < 1 || len > KV_MAX_KEY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key of %d bytes is out of range", len),
				 errdetail("A key has 1 to %d bytes.", KV_MAX_KEY)));
}

Datum
kv_create(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	char		sname[NAMEDATALEN];
	uint32		space;
	BpMtr		mtr;
	KvMeta	   *meta;
	uint64		lsn;

	if (kv_space(name, true) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("key-value store \"%s\" already exists", text_to_cstring(name))));
	snprintf(sname, sizeof(sname), "kv_%s", text_to_cstring(name));
	space = bp_space_create(sname, KV_GROW_PAGES);

	bp_mtr_start(&mtr);
	meta = (KvMeta *) bp_page_data(bp_mtr_fetch_new(&mtr, space, KV_META_PAGE));
	(void) bp_page_data(bp_mtr_fetch_new(&mtr, space, KV_COUNT_PAGE));	/* count 0 */
	kv_node_init((KvNode *) bp_page_data(bp_mtr_fetch_new(&mtr, space, KV_FIRST_ROOT)), 0);
	meta->magic = KV_MAGIC;
	meta->root = KV_FIRST_ROOT;
	meta->height = 1;
	meta->next_free = KV_FIRST_ROOT + 1;
	meta->space_pages = KV_GROW_PAGES;
	lsn = bp_mtr_commit(&mtr);
	bp_log_commit(lsn);
	PG_RETURN_INT32((int32) space);
}

/* Read the meta page's fields into *m (no lock kept; not the free list). */
static void
kv_read_meta(uint32 space, KvMeta *m)
{
	BpPage		p = bp_page_fetch(space, KV_META_PAGE, NULL);

	bp_page_lock(p, BP_LOCK_SHARE);
	memcpy(m, bp_page_data(p), offsetof(KvMeta, free));
	bp_page_release(p);
	kv_check_magic(m, space);
}

/* Add delta to the key count: the counter page, last in the lock order. */
static void
kv_count_add(BpMtr *mtr, uint32 space, int delta)
{
	if (delta != 0)
		((KvCounter *) bp_page_data(bp_mtr_fetch(mtr, space, KV_COUNT_PAGE,
												 BP_LOCK_EXCLUSIVE)))->count += delta;
}

/*
 * The common change, which fits its leaf: the meta page share-locked (so
 * kv_check and the structural changes, which lock it exclusively, wait
 * for it), the inner nodes share-locked with lock coupling, the leaf
 * exclusively in the mini-transaction.  Returns whether the key was there,
 * or -1, nothing changed, when the change needs kv_change_pessimistic: the
 * leaf must split, or an overflow chain is made or freed.
 */
static int
kv_change_optimistic(uint32 space, const KvTmpItem *t, bool del)
{
	BpMtr		mtr;
	KvMeta	   *meta;
	BpPage		leaf;
	KvNode	   *n;
	bool		found;
	int			slot;
	int			delta = 0;

	if (!del && t->val_len > kv_max_inline())
		return -1;
	bp_mtr_start(&mtr);
	meta = (KvMeta *) bp_page_data(bp_mtr_fetch(&mtr, space, KV_META_PAGE, BP_LOCK_SHARE));
	kv_check_magic(meta, space);
	if (meta->height == 1)
		leaf = bp_mtr_fetch(&mtr, space, meta->root, BP_LOCK_EXCLUSIVE);
	else
	{
		BpPage		p = bp_page_fetch(space, meta->root, NULL);

		bp_page_lock(p, BP_LOCK_SHARE);
		for (;;)
		{
			KvNode	   *in = (KvNode *) bp_page_data(p);
			uint32		child = kv_child_for(in, t->key, t->key_len);
			BpPage		c;

			if (in->level == 1)
			{
				leaf = bp_mtr_fetch(&mtr, space, child, BP_LOCK_EXCLUSIVE);
				bp_page_release(p);
				break;
			}
			c = bp_page_fetch(space, child, NULL);
			bp_page_lock(c, BP_LOCK_SHARE);
			bp_page_release(p);
			p = c;
		}
	}
	n = (KvNode *) bp_page_data(leaf);
	slot = kv_search(n, t->key, t->key_len, &found);
	if (found && kv_item(n, slot)->child != 0)
	{
		bp_mtr_abort(&mtr);
		return -1;
	}
	if (del)
	{
		if (found)
		{
			kv_remove_at(n, slot);
			delta = -1;
		}
	}
	else if (!kv_leaf_put(n, slot, found, t))
	{
		bp_mtr_abort(&mtr);
		return -1;
	}
	else if (!found)
		delta = 1;
	kv_count_add(&mtr, space, delta);
	bp_log_commit(bp_mtr_commit(&mtr));
	return found ? 1 : 0;
}

/*
 * A change that may split nodes or make or free overflow pages: the meta
 * page and the whole path from the root locked exclusively.  A split makes
 * a new page with bp_mtr_fetch_new, moves the upper half of the items
 * there and inserts the separator into the parent, splitting upward as
 * needed, the root last (a new root above it).  Pages in the
 * mini-transaction: the meta page, the path (at most KV_MAX_HEIGHT), a new
 * page per level and a new root, the overflow pages and the counter page:
 * 2 * 5 + 1 + 2 + 2 = 15, within BP_MTR_MAX_PAGES (16).
 */
static bool
kv_change_pessimistic(uint32 space, const KvTmpItem *t, bool del)
{
	KvMeta		m;
	BpMtr		mtr;
	KvMeta	   *meta;
	KvNode	   *nodes[KV_MAX_HEIGHT];
	int			depth;
	uint32		pg;
	bool		found;
	int			slot;
	int			level;
	char		sep[KV_MAX_KEY];
	int			sep_len = 0;
	uint32		new_child = 0;
	bool		need_insert;
	uint32		grown;
	int			delta = 0;
	KvTmpItem	it;

	/*
	 * Room for a split all the way up and an overflow chain: checked under
	 * the meta page's lock; if there is too little, the space is extended
	 * with no page locked (bufpool.h) and the change starts again.
	 */
	kv_read_meta(space, &m);
	grown = m.space_pages;
	for (;;)
	{
		bp_mtr_start(&mtr);
		meta = (KvMeta *) bp_page_data(bp_mtr_fetch(&mtr, space, KV_META_PAGE,
													BP_LOCK_EXCLUSIVE));
		meta->space_pages = Max(meta->space_pages, grown);
		if (meta->next_free + meta->height + 1 + KV_MAX_OVERFLOW <= meta->space_pages)
			break;
		bp_mtr_abort(&mtr);
		grown = (uint32) bp_space_extend(space, KV_GROW_PAGES);
	}

	/* down the tree, every node of the path locked exclusively */
	pg = meta->root;
	for (depth = 0;; depth++)
	{
		if (depth >= KV_MAX_HEIGHT)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("key-value store in bufpool space %u has a path of more than %d nodes",
							space, KV_MAX_HEIGHT)));
		nodes[depth] = (KvNode *) bp_page_data(bp_mtr_fetch(&mtr, space, pg, BP_LOCK_EXCLUSIVE));
		if (nodes[depth]->level == 0)
			break;
		pg = kv_child_for(nodes[depth], t->key, t->key_len);
	}

	slot = kv_search(nodes[depth], t->key, t->key_len, &found);
	if (found && kv_item(nodes[depth], slot)->child != 0)
	{
		KvItem	   *old = kv_item(nodes[depth], slot);

		kv_read_overflow(space, old->child, NULL, old->val_len, kv_free_visit, meta);
	}
	if (del)
	{
		if (found)
		{
			kv_remove_at(nodes[depth], slot);
			delta = -1;
		}
		kv_count_add(&mtr, space, delta);
		bp_log_commit(bp_mtr_commit(&mtr));
		return found;
	}
	it = *t;
	if (t->val_len > kv_max_inline())
	{
		it.val = NULL;
		it.child = kv_write_overflow(&mtr, space, meta, t->val, t->val_len);
	}
	if (!found)
		delta = 1;

	/* insert, splitting upward while a node is full */
	need_insert = !kv_leaf_put(nodes[depth], slot, found, &it);
	if (need_insert && found)
		kv_remove_at(nodes[depth], slot);	/* the new item goes to its slot */
	for (level = depth; need_insert; level--)
	{
		KvTmpItem	sep_item = {sep, sep_len, NULL, 0, new_child};
		const KvTmpItem *add = level == depth ? &it : &sep_item;
		KvNode	   *n;
		uint32		right_no;

		if (level < 0)
		{
			/* the root split: a new root above the old one */
			uint32		root_no;
			KvNode	   *r;

			if (meta->height >= KV_MAX_HEIGHT)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("key-value store in bufpool space %u is %u levels high, the most it can be",
								space, meta->height)));
			root_no = kv_alloc_page(meta);
			r = (KvNode *) bp_page_data(bp_mtr_fetch_new(&mtr, space, root_no));
			kv_node_init(r, meta->height);
			r->leftmost = meta->root;
			kv_insert_at(r, 0, &sep_item);
			meta->root = root_no;
			meta->height++;
			break;
		}
		n = nodes[level];
		slot = kv_search(n, add->key, add->key_len, &found);
		if (kv_room(n) >= kv_tmp_size(add) + (int) sizeof(uint16))
		{
			kv_place(n, slot, add);
			need_insert = false;
			break;
		}
		/* split n: about half its bytes go to a new right sibling */
		right_no = kv_alloc_page(meta);
		kv_split(n, (KvNode *) bp_page_data(bp_mtr_fetch_new(&mtr, space, right_no)),
				 right_no, slot, add, sep, &sep_len);
		new_child = right_no;
	}
	kv_count_add(&mtr, space, delta);
	bp_log_commit(bp_mtr_commit(&mtr));
	return found;
}

/* Put key -> value (del: delete key).  Returns whether the key was there. */
static bool
kv_change(uint32 space, const char *key, int key_len, const char *val, int val_len, bool del)
{
	KvTmpItem	t = {key, key_len, del ? NULL : val, val_len, 0};
	int			r = kv_change_optimistic(space, &t, del);

	if (r >= 0)
		return r == 1;
	return kv_change_pessimistic(space, &t, del);
}

Datum
kv_put(PG_FUNCTION_ARGS)
{
	uint32		space = kv_space(PG_GETARG_TEXT_PP(0), false);
	text	   *key = PG_GETARG_TEXT_PP(1);
	bytea	   *val = PG_GETARG_BYTEA_PP(2);
	int			val_len = VARSIZE_ANY_EXHDR(val);

	kv_check_key(key);
	if (val_len > kv_max_value())
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value of %d bytes is too large", val_len),
				 errdetail("A value has at most %d bytes with pages of %d bytes.",
						   kv_max_value(), payload_size)));
	PG_RETURN_BOOL(kv_change(space, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
							 VARDATA_ANY(val), val_len, false));
}

Datum
kv_delete(PG_FUNCTION_ARGS)
{
	uint32		space = kv_space(PG_GETARG_TEXT_PP(0), false);
	text	   *key = PG_GETARG_TEXT_PP(1);

	kv_check_key(key);
	PG_RETURN_BOOL(kv_change(space, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), NULL, 0, true));
}

/*
 * Go down to the leaf for key with lock coupling (share locks); returns
 * that leaf pinned and share-locked.
 */
static BpPage
kv_find_leaf(uint32 space, const char *key, int key_len)
{
	BpPage		meta_page = bp_page_fetch(space, KV_META_PAGE, NULL);
	KvMeta	   *meta;
	BpPage		p;

	bp_page_lock(meta_page, BP_LOCK_SHARE);
	meta = (KvMeta *) bp_page_data(meta_page);
	kv_check_magic(meta, space);
	p = bp_page_fetch(space, meta->root, NULL);
	bp_page_lock(p, BP_LOCK_SHARE);
	bp_page_release(meta_page);
	for (;;)
	{
		KvNode	   *n = (KvNode *) bp_page_data(p);
		BpPage		child;

		if (n->level == 0)
			return p;
		child = bp_page_fetch(space, kv_child_for(n, key, key_len), NULL);
		bp_page_lock(child, BP_LOCK_SHARE);
		bp_page_release(p);
		p = child;
	}
}

Datum
kv_get(PG_FUNCTION_ARGS)
{
	uint32		space = kv_space(PG_GETARG_TEXT_PP(0), false);
	text	   *key = PG_GETARG_TEXT_PP(1);
	BpPage		leaf;
	KvNode	   *n;
	bool		found;
	int			slot;
	bytea	   *result = NULL;

	kv_check_key(key);
	leaf = kv_find_leaf(space, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	n = (KvNode *) bp_page_data(leaf);
	slot = kv_search(n, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), &found);
	if (found)
		result = kv_item_value(space, kv_item(n, slot));
	bp_page_release(leaf);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(result);
}

Datum
kv_count(PG_FUNCTION_ARGS)
{
	uint32		space = kv_space(PG_GETARG_TEXT_PP(0), false);
	KvMeta		m;
	BpPage		p;
	int64		count;

	kv_read_meta(space, &m);
	p = bp_page_fetch(space, KV_COUNT_PAGE, NULL);
	bp_page_lock(p, BP_LOCK_SHARE);
	count = ((KvCounter *) bp_page_data(p))->count;
	bp_page_release(p);
	PG_RETURN_INT64(count);
}

/* kv_scan(store): every (key, value) in key order, along the leaves. */
Datum
kv_scan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint32		space = kv_space(PG_GETARG_TEXT_PP(0), false);
	BpPage		p;

	InitMaterializedSRF(fcinfo, 0);
	p = kv_find_leaf(space, "", 0);
	for (;;)
	{
		KvNode	   *n = (KvNode *) bp_page_data(p);
		uint32		right = n->right;
		BpPage		next;
		int			i;

		for (i = 0; i < n->n_items; i++)
		{
			KvItem	   *it = kv_item(n, i);
			Datum		values[2];
			bool		nulls[2] = {false, false};

			values[0] = PointerGetDatum(cstring_to_text_with_len(it->data, it->key_len));
			values[1] = PointerGetDatum(kv_item_value(space, it));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		if (right == 0)
			break;
		/* left to right: the next leaf before this one goes */
		next = bp_page_fetch(space, right, NULL);
		bp_page_lock(next, BP_LOCK_SHARE);
		bp_page_release(p);
		p = next;
	}
	bp_page_release(p);
	return (Datum) 0;
}

/*
 * kv_check(store): the tree's own consistency check.  Every node's keys
 * in order and inside the bounds its parent gives it, its item area
 * accounted for (items plus garbage), every leaf at the same depth, the
 * leaf chain in key order, every overflow chain as long as its value, the
 * count equal to the counter page's, and every page below next_free
 * reached exactly once: from the tree, or on the free list (or counted as
 * leaked).  Returns the number of keys; ERROR naming the first problem.
 */
typedef struct KvCheck
{
	uint32		space;
	uint32		next_free;
	bool	   *seen;
	int64		pages;			/* reached, and free */
	int64		leaves;
	int64		inner;
	int64		overflow;
} KvCheck;


static void
kv_check_visit(uint32 pg, void *arg)
{
	KvCheck    *chk = (KvCheck *) arg;

	if (pg < KV_FIRST_ROOT || pg >= chk->next_free)
		elog(ERROR, "kv_check: page %u is outside the pages in use (2 .. %u)", pg, chk->next_free - 1);
	if (chk->seen[pg])
		elog(ERROR, "kv_check: page %u is reached twice", pg);
	chk->seen[pg] = true;
	chk->pages++;
}

static void
kv_check_overflow_visit(uint32 pg, void *arg)
{
	((KvCheck *) arg)->overflow++;
	kv_check_visit(pg, arg);
}

static int64
kv_check_node(KvCheck *chk, uint32 pg, int level, const char *lo, int lo_len,
			  const char *hi, int hi_len, uint32 *prev_leaf)
{
	BpPage		p = bp_page_fetch(chk->space, pg, NULL);
	KvNode	   *n;
	char	   *copy = palloc(payload_size);
	int64		keys = 0;
	int			bytes = 0;
	int			i;

	kv_check_visit(pg, chk);
	bp_page_lock(p, BP_LOCK_SHARE);
	memcpy(copy, bp_page_data(p), payload_size);
	n = (KvNode *) copy;
	/* the overflow chains while the leaf is locked, as a reader does */
	if (n->level == 0)
		for (i = 0; i < n->n_items; i++)
		{
			KvItem	   *it = kv_item(n, i);

			if (it->child != 0)
				kv_read_overflow(chk->space, it->child, NULL, it->val_len,
								 kv_check_overflow_visit, chk);
		}
	bp_page_release(p);
	if (n->level != level)
		elog(ERROR, "kv_check: page %u is at level %d, its parent expects %d", pg, n->level, level);
	for (i = 0; i < n->n_items; i++)
	{
		KvItem	   *it = kv_item(n, i);

		bytes += kv_item_bytes(it);
		if (i > 0)
		{
			KvItem	   *prev = kv_item(n, i - 1);

			if (kv_keycmp(prev->data, prev->key_len, it->data, it->key_len) >= 0)
				elog(ERROR, "kv_check: page %u: keys %d and %d out of order", pg, i - 1, i);
		}
		if (lo != NULL && kv_keycmp(it->data, it->key_len, lo, lo_len) < 0)
			elog(ERROR, "kv_check: page %u: key %d below its lower bound", pg, i);
		if (hi != NULL && kv_keycmp(it->data, it->key_len, hi, hi_len) >= 0)
			elog(ERROR, "kv_check: page %u: key %d not below its upper bound", pg, i);
	}
	if (payload_size - n->upper != bytes + n->garbage)
		elog(ERROR, "kv_check: page %u: item area of %d bytes, items of %d and garbage of %d",
			 pg, payload_size - n->upper, bytes, n->garbage);
	if (level == 0)
	{
		/* leaves are reached left to right: each is its left neighbour's right */
		if (*prev_leaf != 0 && *prev_leaf != pg)
			elog(ERROR, "kv_check: leaf %u is not the right neighbour of the leaf before it", pg);
		*prev_leaf = n->right;
		keys = n->n_items;
		chk->leaves++;
	}
	else
	{
		chk->inner++;
		for (i = -1; i < n->n_items; i++)
		{
			KvItem	   *left = i >= 0 ? kv_item(n, i) : NULL;
			KvItem	   *right = i + 1 < n->n_items ? kv_item(n, i + 1) : NULL;

			keys += kv_check_node(chk, left ? left->child : n->leftmost, level - 1,
								  left ? left->data : lo, left ? left->key_len : lo_len,
								  right ? right->data : hi, right ? right->key_len : hi_len,
								  prev_leaf);
		}
	}
	pfree(copy);
	return keys;
}

/* Check the store's tree (kv_check); its shape in *chk and *m_out. */
static int64
kv_check_tree(uint32 space, KvCheck *chk, KvMeta *m_out)
{
	KvMeta	   *m;
	int64		keys;
	int64		count;
	uint32		prev_leaf = 0;
	BpPage		mp;
	BpPage		cp;
	uint32		i;

	/* the meta page exclusively throughout: no writer meanwhile */
	mp = bp_page_fetch(space, KV_META_PAGE, NULL);
	bp_page_lock(mp, BP_LOCK_EXCLUSIVE);
	m = palloc(payload_size);
	memcpy(m, bp_page_data(mp), payload_size);
	if (m->magic != KV_MAGIC)
		elog(ERROR, "kv_check: space %u has no key-value meta page", space);
	cp = bp_page_fetch(space, KV_COUNT_PAGE, NULL);
	bp_page_lock(cp, BP_LOCK_SHARE);
	count = ((KvCounter *) bp_page_data(cp))->count;
	bp_page_release(cp);
	memset(chk, 0, sizeof(*chk));
	chk->space = space;
	chk->next_free = m->next_free;
	chk->seen = palloc0(m->next_free);
	keys = kv_check_node(chk, m->root, m->height - 1, NULL, 0, NULL, 0, &prev_leaf);
	bp_page_release(mp);
	if (prev_leaf != 0)
		elog(ERROR, "kv_check: the last leaf has right neighbour %u", prev_leaf);
	if (keys != count)
		elog(ERROR, "kv_check: %lld keys in the leaves, the counter page counts %lld",
			 (long long) keys, (long long) count);
	if (m->n_free > (uint32) kv_meta_free_cap())
		elog(ERROR, "kv_check: %u free pages listed, at most %d fit", m->n_free, kv_meta_free_cap());
	for (i = 0; i < m->n_free; i++)
		kv_check_visit(m->free[i], chk);
	if (chk->pages + m->leaked != m->next_free - KV_FIRST_ROOT)
		elog(ERROR, "kv_check: %lld pages reached or free and %u leaked, %u allocated",
			 (long long) chk->pages, m->leaked, m->next_free - KV_FIRST_ROOT);
	memcpy(m_out, m, offsetof(KvMeta, free));
	pfree(chk->seen);
	pfree(m);
	return keys;
}

Datum
kv_check(PG_FUNCTION_ARGS)
{
	uint32		space = kv_space(PG_GETARG_TEXT_PP(0), false);
	KvCheck		chk;
	KvMeta		m;

	PG_RETURN_INT64(kv_check_tree(space, &chk, &m));
}

/*
 * kv_stats(store): the tree's shape, after the same walk and checks as
 * kv_check: height, leaves, inner nodes, overflow pages, free pages (on
 * the free list), leaked pages, keys.
 */
Datum
kv_stats(PG_FUNCTION_ARGS)
{
	uint32		space = kv_space(PG_GETARG_TEXT_PP(0), false);
	KvCheck		chk;
	KvMeta		m;
	int64		keys;
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "kv_stats: return type must be a row type");
	keys = kv_check_tree(space, &chk, &m);
	values[0] = Int32GetDatum((int32) m.height);
	values[1] = Int64GetDatum(chk.leaves);
	values[2] = Int64GetDatum(chk.inner);
	values[3] = Int64GetDatum(chk.overflow);
	values[4] = Int64GetDatum((int64) m.n_free);
	values[5] = Int64GetDatum((int64) m.leaked);
	values[6] = Int64GetDatum(keys);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

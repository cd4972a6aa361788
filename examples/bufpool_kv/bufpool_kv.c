/*-------------------------------------------------------------------------
 *
 * bufpool_kv.c
 *	  A persistent key-value store on bufpool_ext pages: a B+tree in a
 *	  bufpool space, built against bufpool_ext's installed public header
 *	  only, as any extension outside the project would be.
 *
 * Layout.  A store is the bufpool space "kv_<name>".  Page 0 is the meta
 * page (magic, root, height, next free page, key count).  Every other
 * page in use is a node: a small header, then a slotted page, item
 * offsets growing up from the header and items growing down from the
 * end.  A leaf item is (key length, value length, key, value); an inner
 * item is (key length, child, key), and an inner node's header holds its
 * leftmost child: child i covers the keys from key i up to key i+1.
 * Leaves are chained left to right for the scan.  Keys compare as bytes
 * (memcmp, then length).
 *
 * Changes.  A put or delete is one mini-transaction (bufpool.h): the meta
 * page locked exclusively first (it orders all writers of a store: one at
 * a time), then the path from the root down, exclusively; a split makes
 * a new page with bp_mtr_fetch_new, moves the upper half of the items
 * there and inserts the separator into the parent, splitting upward as
 * needed, the root last (a new root above it).  The whole split commits
 * as one group of redo records: recovery applies all of it or none.  A
 * put is then as durable as bufpool_ext.flush_log_at_commit makes it
 * (bp_log_commit).  Deletes do not merge pages.
 *
 * Reads lock the meta page in share mode, then go down with lock
 * coupling (the child locked before the parent is released).  Lock
 * order: meta, then parent before child, left before right: the same in
 * every path, so no two sessions wait for each other in a cycle.
 *
 * Room: before a put, with no page locked, the space is extended when
 * fewer free pages are left than a split could take (the tree's height
 * plus one), as bufpool.h asks (bp_space_extend holds no page lock).
 *
 * IDENTIFICATION
 *	  examples/bufpool_kv/bufpool_kv.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "extension/bufpool_ext/bufpool.h"

#if BUFPOOL_EXT_VERSION_NUM < 10900
#error "bufpool_kv needs the C API of bufpool_ext 1.9 or later"
#endif

PG_MODULE_MAGIC;

void		_PG_init(void);

#define KV_MAGIC		0x6B767472	/* "kvtr" */
#define KV_MAX_KEY		256
#define KV_MAX_HEIGHT	8
#define KV_GROW_PAGES	64			/* pages added at a time */

typedef struct KvMeta
{
	uint32		magic;
	uint32		root;
	uint32		height;			/* 1: the root is a leaf */
	uint32		next_free;		/* pages below it are in use */
	uint32		space_pages;	/* the space's size, as the store extended it */
	int64		count;			/* keys */
} KvMeta;

typedef struct KvNode
{
	uint16		level;			/* 0: leaf */
	uint16		n_items;
	uint16		upper;			/* start of the item area */
	uint16		pad;
	uint32		right;			/* next leaf, 0: none */
	uint32		leftmost;		/* inner: child below the first key */
	uint16		slots[FLEXIBLE_ARRAY_MEMBER];	/* item offsets, in key order */
} KvNode;

#define KV_NODE_HDR		offsetof(KvNode, slots)

/* an item, at its slot's offset in the payload */
typedef struct KvItem
{
	uint16		key_len;
	uint16		val_len;		/* leaf: value length */
	uint32		child;			/* inner: child page */
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* key, then value */
} KvItem;

#define KV_ITEM_HDR		offsetof(KvItem, data)

static int	payload_size;

PG_FUNCTION_INFO_V1(kv_create);
PG_FUNCTION_INFO_V1(kv_put);
PG_FUNCTION_INFO_V1(kv_get);
PG_FUNCTION_INFO_V1(kv_delete);
PG_FUNCTION_INFO_V1(kv_count);
PG_FUNCTION_INFO_V1(kv_scan);
PG_FUNCTION_INFO_V1(kv_check);

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
kv_item_size(int key_len, int val_len)
{
	return MAXALIGN(KV_ITEM_HDR + key_len + val_len);
}

static inline int
kv_free_space(KvNode *n)
{
	return n->upper - (int) (KV_NODE_HDR + sizeof(uint16) * n->n_items);
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

/* Put an item at slot i; the caller made sure it fits. */
static void
kv_insert_at(KvNode *n, int i, const char *key, int key_len, const char *val, int val_len,
			 uint32 child)
{
	int			size = kv_item_size(key_len, val_len);
	KvItem	   *it;

	n->upper -= size;
	it = (KvItem *) ((char *) n + n->upper);
	it->key_len = (uint16) key_len;
	it->val_len = (uint16) val_len;
	it->child = child;
	memcpy(it->data, key, key_len);
	if (val_len > 0)
		memcpy(it->data + key_len, val, val_len);
	memmove(&n->slots[i + 1], &n->slots[i], sizeof(uint16) * (n->n_items - i));
	n->slots[i] = n->upper;
	n->n_items++;
}

/* Rebuild n keeping items [from, to) of src only (compacts the item area). */
static void
kv_node_copy_range(KvNode *dst, KvNode *src, int from, int to, int level)
{
	int			i;

	kv_node_init(dst, level);
	for (i = from; i < to; i++)
	{
		KvItem	   *it = kv_item(src, i);

		kv_insert_at(dst, dst->n_items, it->data, it->key_len, it->data + it->key_len,
					 it->val_len, it->child);
	}
}

/* Remove the item at slot i (its bytes stay until a compaction). */
static void
kv_remove_at(KvNode *n, int i)
{
	char	   *copy = palloc(payload_size);
	KvNode	   *c = (KvNode *) copy;

	memcpy(copy, n, payload_size);
	memmove(&c->slots[i], &c->slots[i + 1], sizeof(uint16) * (c->n_items - i - 1));
	c->n_items--;
	/* compact, keeping the header fields */
	kv_node_copy_range(n, c, 0, c->n_items, c->level);
	n->right = c->right;
	n->leftmost = c->leftmost;
	pfree(copy);
}

/* an item to place, from wherever it is */
typedef struct KvTmpItem
{
	const char *key;
	int			key_len;
	const char *val;
	int			val_len;
	uint32		child;
} KvTmpItem;

/*
 * Split full node n, placing item *add at slot: n keeps the first items
 * (about half the bytes), new node r (page right_no) gets the rest.  A
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
		{
			KvItem	   *it = kv_item(c, i);
			KvTmpItem	t = {it->data, it->key_len, it->data + it->key_len, it->val_len, it->child};

			items[j++] = t;
		}
	}
	for (i = 0; i < count; i++)
		total += kv_item_size(items[i].key_len, items[i].val_len) + sizeof(uint16);
	for (m = 0; m < count - 1; m++)
	{
		acc += kv_item_size(items[m].key_len, items[m].val_len) + sizeof(uint16);
		if (acc >= total / 2)
			break;
	}
	m = Max(m, 1);				/* both halves have an item */
	memcpy(sepbuf, items[m].key, items[m].key_len);
	*sep_len = items[m].key_len;

	kv_node_init(n, c->level);
	kv_node_init(r, c->level);
	for (i = 0; i < m; i++)
		kv_insert_at(n, n->n_items, items[i].key, items[i].key_len, items[i].val,
					 items[i].val_len, items[i].child);
	for (i = leaf ? m : m + 1; i < count; i++)
		kv_insert_at(r, r->n_items, items[i].key, items[i].key_len, items[i].val,
					 items[i].val_len, items[i].child);
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

/*
 * The largest value: an item of at most a quarter of a page, so that a
 * split by bytes always leaves both halves with room (each at most half
 * the items plus one).
 */
static int
kv_max_value(void)
{
	return (payload_size - (int) KV_NODE_HDR) / 4 - (int) sizeof(uint16) -
		MAXALIGN(KV_ITEM_HDR + KV_MAX_KEY) - MAXIMUM_ALIGNOF;
}

Datum
kv_create(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	char		sname[NAMEDATALEN];
	uint32		space;
	BpMtr		mtr;
	BpPage		meta_page;
	BpPage		root_page;
	KvMeta	   *meta;
	uint64		lsn;

	if (kv_space(name, true) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("key-value store \"%s\" already exists", text_to_cstring(name))));
	snprintf(sname, sizeof(sname), "kv_%s", text_to_cstring(name));
	space = bp_space_create(sname, KV_GROW_PAGES);
	payload_size = bp_page_payload_size();

	bp_mtr_start(&mtr);
	meta_page = bp_mtr_fetch_new(&mtr, space, 0);
	root_page = bp_mtr_fetch_new(&mtr, space, 1);
	kv_node_init((KvNode *) bp_page_data(root_page), 0);
	meta = (KvMeta *) bp_page_data(meta_page);
	meta->magic = KV_MAGIC;
	meta->root = 1;
	meta->height = 1;
	meta->next_free = 2;
	meta->space_pages = KV_GROW_PAGES;
	meta->count = 0;
	lsn = bp_mtr_commit(&mtr);
	bp_log_commit(lsn);
	PG_RETURN_INT32((int32) space);
}

/* Read the meta page into *m (no lock kept). */
static void
kv_read_meta(uint32 space, KvMeta *m)
{
	BpPage		p = bp_page_fetch(space, 0, NULL);

	bp_page_lock(p, BP_LOCK_SHARE);
	*m = *(KvMeta *) bp_page_data(p);
	bp_page_unlock(p);
	bp_page_release(p);
	if (m->magic != KV_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("bufpool space %u is not a key-value store", space)));
}

/*
 * Put key -> value (a NULL value: delete key).  Returns whether the key
 * was there before.
 */
static bool
kv_change(uint32 space, const char *key, int key_len, const char *val, int val_len, bool del)
{
	KvMeta		m;
	BpMtr		mtr;
	BpPage		meta_page;
	KvMeta	   *meta;
	BpPage		path[KV_MAX_HEIGHT];
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
	uint64		lsn;
	uint32		grown;
	bool		existed;

	/*
	 * Room for a split all the way up: checked under the meta page's lock;
	 * if there is too little, the space is extended with no page locked
	 * (bufpool.h) and the change starts again.
	 */
	kv_read_meta(space, &m);
	grown = m.space_pages;
	for (;;)
	{
		bp_mtr_start(&mtr);
		meta_page = bp_mtr_fetch(&mtr, space, 0, BP_LOCK_EXCLUSIVE);
		meta = (KvMeta *) bp_page_data(meta_page);
		meta->space_pages = Max(meta->space_pages, grown);
		if (meta->next_free + meta->height + 2 <= meta->space_pages)
			break;
		bp_mtr_abort(&mtr);
		grown = (uint32) bp_space_extend(space, KV_GROW_PAGES);
	}
	if (meta->height >= KV_MAX_HEIGHT - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("key-value store tree is %u levels high", meta->height)));

	/* down the tree, every node of the path locked exclusively */
	pg = meta->root;
	for (depth = 0;; depth++)
	{
		path[depth] = bp_mtr_fetch(&mtr, space, pg, BP_LOCK_EXCLUSIVE);
		nodes[depth] = (KvNode *) bp_page_data(path[depth]);
		if (nodes[depth]->level == 0)
			break;
		pg = kv_child_for(nodes[depth], key, key_len);
	}

	slot = kv_search(nodes[depth], key, key_len, &found);
	existed = found;
	if (del)
	{
		if (found)
		{
			kv_remove_at(nodes[depth], slot);
			meta->count--;
		}
		lsn = bp_mtr_commit(&mtr);
		bp_log_commit(lsn);
		return found;
	}
	if (found)
		kv_remove_at(nodes[depth], slot);
	else
		meta->count++;

	/* insert, splitting upward while a node is full */
	need_insert = true;
	for (level = depth; need_insert; level--)
	{
		KvNode	   *n = level >= 0 ? nodes[level] : NULL;
		int			size;
		const char *ikey = level == depth ? key : sep;
		int			ikey_len = level == depth ? key_len : sep_len;
		int			ival_len = level == depth ? val_len : 0;
		uint32		ichild = level == depth ? 0 : new_child;

		if (level < 0)
		{
			/* the root split: a new root above the old one */
			uint32		root_no = meta->next_free++;
			BpPage		rp = bp_mtr_fetch_new(&mtr, space, root_no);
			KvNode	   *r = (KvNode *) bp_page_data(rp);

			kv_node_init(r, meta->height);
			r->leftmost = meta->root;
			kv_insert_at(r, 0, sep, sep_len, NULL, 0, new_child);
			meta->root = root_no;
			meta->height++;
			break;
		}
		size = kv_item_size(ikey_len, ival_len) + sizeof(uint16);
		slot = kv_search(n, ikey, ikey_len, &found);
		if (kv_free_space(n) >= size)
		{
			kv_insert_at(n, slot, ikey, ikey_len, level == depth ? val : NULL, ival_len, ichild);
			need_insert = false;
		}
		else
		{
			/* split n: about half its bytes go to a new right sibling */
			uint32		right_no = meta->next_free++;
			BpPage		rp = bp_mtr_fetch_new(&mtr, space, right_no);
			KvTmpItem	it = {ikey, ikey_len, level == depth ? val : NULL, ival_len, ichild};

			kv_split(n, (KvNode *) bp_page_data(rp), right_no, slot, &it, sep, &sep_len);
			new_child = right_no;
		}
	}
	lsn = bp_mtr_commit(&mtr);
	bp_log_commit(lsn);
	return existed;
}

Datum
kv_put(PG_FUNCTION_ARGS)
{
	uint32		space = kv_space(PG_GETARG_TEXT_PP(0), false);
	text	   *key = PG_GETARG_TEXT_PP(1);
	bytea	   *val = PG_GETARG_BYTEA_PP(2);
	int			val_len = VARSIZE_ANY_EXHDR(val);

	payload_size = bp_page_payload_size();
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

	payload_size = bp_page_payload_size();
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
	BpPage		meta_page = bp_page_fetch(space, 0, NULL);
	KvMeta	   *meta;
	BpPage		p;

	bp_page_lock(meta_page, BP_LOCK_SHARE);
	meta = (KvMeta *) bp_page_data(meta_page);
	if (meta->magic != KV_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("bufpool space %u is not a key-value store", space)));
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

	payload_size = bp_page_payload_size();
	kv_check_key(key);
	leaf = kv_find_leaf(space, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	n = (KvNode *) bp_page_data(leaf);
	slot = kv_search(n, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), &found);
	if (found)
	{
		KvItem	   *it = kv_item(n, slot);

		result = palloc(VARHDRSZ + it->val_len);
		SET_VARSIZE(result, VARHDRSZ + it->val_len);
		memcpy(VARDATA(result), it->data + it->key_len, it->val_len);
	}
	bp_page_release(leaf);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(result);
}

Datum
kv_count(PG_FUNCTION_ARGS)
{
	KvMeta		m;

	kv_read_meta(kv_space(PG_GETARG_TEXT_PP(0), false), &m);
	PG_RETURN_INT64(m.count);
}

/* kv_scan(store): every (key, value) in key order, along the leaves. */
Datum
kv_scan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint32		space = kv_space(PG_GETARG_TEXT_PP(0), false);
	BpPage		p;

	payload_size = bp_page_payload_size();
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
			bytea	   *v = palloc(VARHDRSZ + it->val_len);

			values[0] = PointerGetDatum(cstring_to_text_with_len(it->data, it->key_len));
			SET_VARSIZE(v, VARHDRSZ + it->val_len);
			memcpy(VARDATA(v), it->data + it->key_len, it->val_len);
			values[1] = PointerGetDatum(v);
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
 * in order and inside the bounds its parent gives it, every leaf at the
 * same depth, the leaf chain in key order, the count equal to the meta
 * page's.  Returns the number of keys; ERROR naming the first problem.
 */
static int64
kv_check_node(uint32 space, uint32 pg, int level, const char *lo, int lo_len,
			  const char *hi, int hi_len, int *n_pages)
{
	BpPage		p = bp_page_fetch(space, pg, NULL);
	KvNode	   *n;
	char	   *copy = palloc(payload_size);
	int64		keys = 0;
	int			i;

	bp_page_lock(p, BP_LOCK_SHARE);
	memcpy(copy, bp_page_data(p), payload_size);
	bp_page_release(p);
	n = (KvNode *) copy;
	(*n_pages)++;
	if (n->level != level)
		elog(ERROR, "kv_check: page %u is at level %d, its parent expects %d", pg, n->level, level);
	for (i = 0; i < n->n_items; i++)
	{
		KvItem	   *it = kv_item(n, i);

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
	if (level == 0)
		keys = n->n_items;
	else
	{
		for (i = -1; i < n->n_items; i++)
		{
			KvItem	   *left = i >= 0 ? kv_item(n, i) : NULL;
			KvItem	   *right = i + 1 < n->n_items ? kv_item(n, i + 1) : NULL;

			keys += kv_check_node(space, left ? left->child : n->leftmost, level - 1,
								  left ? left->data : lo, left ? left->key_len : lo_len,
								  right ? right->data : hi, right ? right->key_len : hi_len,
								  n_pages);
		}
	}
	pfree(copy);
	return keys;
}

Datum
kv_check(PG_FUNCTION_ARGS)
{
	uint32		space = kv_space(PG_GETARG_TEXT_PP(0), false);
	KvMeta		m;
	int64		keys;
	int			n_pages = 0;
	BpPage		mp;

	payload_size = bp_page_payload_size();
	/* the meta page share-locked throughout: no writer meanwhile */
	mp = bp_page_fetch(space, 0, NULL);
	bp_page_lock(mp, BP_LOCK_SHARE);
	m = *(KvMeta *) bp_page_data(mp);
	if (m.magic != KV_MAGIC)
		elog(ERROR, "kv_check: space %u has no key-value meta page", space);
	keys = kv_check_node(space, m.root, m.height - 1, NULL, 0, NULL, 0, &n_pages);
	bp_page_release(mp);
	if (keys != m.count)
		elog(ERROR, "kv_check: %lld keys in the leaves, the meta page counts %lld",
			 (long long) keys, (long long) m.count);
	if (n_pages > (int) m.next_free - 1)
		elog(ERROR, "kv_check: %d pages reached, only %u allocated", n_pages, m.next_free - 1);
	PG_RETURN_INT64(keys);
}

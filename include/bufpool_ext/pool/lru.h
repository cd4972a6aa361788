/*-------------------------------------------------------------------------
 *
 * lru.h
 *	  Free list and LRU list with midpoint insertion (lru.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/pool/lru.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_LRU_H
#define BUFPOOL_EXT_LRU_H

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/pool/zip.h"

/* callers hold inst->lru_lock exclusively */
extern void bp_lru_add_old(BpInstance *inst, BpLocalInstance *li, BpBlockNo b);
extern void bp_lru_make_young(BpInstance *inst, BpLocalInstance *li, BpBlockNo b);
extern void bp_lru_make_young_tail(BpInstance *inst, BpLocalInstance *li, BpBlockNo b);
extern void bp_lru_remove(BpInstance *inst, BpLocalInstance *li, BpBlockNo b);
extern void bp_free_push(BpInstance *inst, BpLocalInstance *li, BpBlockNo b);
extern void bp_lru_replace(BpInstance *inst, BpLocalInstance *li, BpBlockNo b, BpBlockNo nb);
extern void bp_lru_put_loaded(BpInstance *inst, BpLocalInstance *li, BpBlockNo b, bool young);

extern void bp_lru_init_instance(int instance);
extern BpBlockNo bp_lru_get_free_block(int instance);
extern void bp_lru_return_free_block(int instance, BpBlockNo b);
extern bool bp_lru_free_tail_block(int instance, int below_chunk, int depth);
extern BpBlockNo bp_lru_get_spare_block(int instance, uint32 keep);
extern bool bp_lru_evict_pinned(int instance, BpBlockNo b);
extern bool bp_lru_evict_pinned_mode(int instance, BpBlockNo b, BpZipEvict zip_how);
extern BpBlockNo bp_lru_try_free_block(int instance);
extern int	bp_lru_tail_work(int instance, int target_free, int scan_depth);

/* frames for memory use (buddy.c); caller holds no pool lock */
extern BpBlockNo bp_lru_get_memory_block(int instance, uint32 tag, bool *capped);
extern bool bp_lru_put_memory_block(int instance, BpBlockNo b, uint32 tag);

/*
 * The most blocks the young sublist may hold with lru_boundary = access:
 * (100 - old_blocks_pct)% of the blocks that hold or wait for pages.
 */
static inline uint32
bp_lru_young_max(const BpInstance *inst)
{
	return (uint32) ((uint64) (inst->lru_len + inst->free_len) * (100 - bp_old_blocks_pct) / 100);
}

/*
 * Whether the young sublist is under its cap (lru_boundary = access) by
 * more than BP_LRU_OLD_TOLERANCE blocks; the hit path reads the lengths
 * without lru_lock, as a hint.  (The slack keeps a full young sublist
 * from counting as having room for the moments a block is in transit
 * between the lists and the cap is one lower.)  While it has room, a
 * block that joins it displaces nothing: an old block touched again after
 * a burst (BP_OLD_BLOCKS_WINDOW_MIN_MS) is made young at once, and one
 * miss in BP_LRU_ADMIT_EVERY is read straight into it (bp_lru_add_old).
 * Either way the block goes to the young sublist's tail, so it is the
 * first to become old again when blocks made young by the full rule need
 * the room.
 */
static inline bool
bp_lru_young_room(const BpInstance *inst)
{
	/* signed: lengths read in the middle of an update must not wrap */
	return inst->lru_old != BP_INVALID_BLOCK &&
		(int64) inst->lru_len - inst->lru_old_len + BP_LRU_OLD_TOLERANCE <
		(int64) bp_lru_young_max(inst);
}

/*
 * InnoDB's throttle: a young block is moved to the head again only once
 * it has drifted about a quarter of the young part toward the tail, so
 * hits on hot pages take no list lock.
 */
static inline bool
bp_lru_young_enough(BpInstance *inst, BpBlockDesc *d, int old_pct)
{
	uint32		drift = inst->freed_page_clock - d->freed_page_clock;

	return drift < (uint32) ((uint64) inst->n_blocks * (100 - old_pct) / 400);
}

/*
 * The time since its first access after which a hit makes an old block
 * young: old_blocks_time, but with bufpool_ext.old_blocks_time_adaptive
 * at most half the time a block lasts in the old sublist (and at least
 * BP_OLD_BLOCKS_WINDOW_MIN_MS).  When the old sublist turns over faster
 * than old_blocks_time, InnoDB's rule makes no block young at all and the
 * young sublist freezes with whatever it held; the cap keeps the rule's
 * purpose, ignoring the touches of one scan that come in a burst, while
 * a page touched again later in its stay is made young.  The current
 * count also gives an estimate (its time so far, scaled up to a whole
 * sublist of departures), and the larger of the two is used: a pool that
 * has gone quiet gets old_blocks_time back at once.
 */
#define BP_OLD_BLOCKS_WINDOW_MIN_MS	2

static inline uint32
bp_old_blocks_window(const BpInstance *inst, uint32 now)
{
	uint32		window = (uint32) bp_old_blocks_time;
	uint32		turnover = inst->old_turnover_ms;

	if (bp_old_blocks_time_adaptive && turnover != 0)
	{
		uint64		so_far = (uint64) (now - inst->old_window_start) *
			inst->lru_old_len / (inst->old_departures + 1);

		turnover = (uint32) Min(Max((uint64) turnover, so_far), PG_UINT32_MAX);
		window = Min(window, Max(turnover / 2, BP_OLD_BLOCKS_WINDOW_MIN_MS));
	}
	return window;
}

#endif							/* BUFPOOL_EXT_LRU_H */

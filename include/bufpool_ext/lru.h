/*-------------------------------------------------------------------------
 *
 * lru.h
 *	  Free list and LRU list with midpoint insertion (lru.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/lru.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_LRU_H
#define BUFPOOL_EXT_LRU_H

#include "bufpool_ext/pool.h"

/* callers hold inst->lru_lock exclusively */
extern void bp_lru_add_old(BpInstance *inst, BpLocalInstance *li, BpBlockNo b);
extern void bp_lru_make_young(BpInstance *inst, BpLocalInstance *li, BpBlockNo b);
extern void bp_lru_remove(BpInstance *inst, BpLocalInstance *li, BpBlockNo b);
extern void bp_free_push(BpInstance *inst, BpLocalInstance *li, BpBlockNo b);
extern void bp_lru_replace(BpInstance *inst, BpLocalInstance *li, BpBlockNo b, BpBlockNo nb);

extern void bp_lru_init_instance(int instance);
extern BpBlockNo bp_lru_get_free_block(int instance);
extern void bp_lru_return_free_block(int instance, BpBlockNo b);
extern bool bp_lru_evict_pinned(int instance, BpBlockNo b);
extern int	bp_lru_tail_work(int instance, int target_free, int scan_depth);

/* frames for memory use (buddy.c); caller holds no pool lock */
extern BpBlockNo bp_lru_get_memory_block(int instance, uint32 tag, bool *capped);
extern bool bp_lru_put_memory_block(int instance, BpBlockNo b, uint32 tag);

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

#endif							/* BUFPOOL_EXT_LRU_H */

/*-------------------------------------------------------------------------
 *
 * flush.h
 *	  Writing dirty pages: flush list and single pages (flush.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/pool/flush.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_FLUSH_H
#define BUFPOOL_EXT_FLUSH_H

#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/shared/shmem.h"

extern bool bp_flush_block(int instance, BpBlockNo b, BpFlushType type);
extern int64 bp_flush_blocks(int instance, const BpBlockNo *blocks, int n, BpFlushType type);
extern int64 bp_flush_list_batch(int instance, int64 max_pages, uint32 space_id);
extern int64 bp_flush_list_batch_chunks(int instance, int64 max_pages, uint32 space_id,
										int min_chunk);
extern int64 bp_flush_all(uint32 space_id);
extern uint64 bp_mark_dirty(int instance, BpBlockNo b, uint32 type, uint32 offset,
							const char *data, uint32 data_len);
extern uint64 bp_mark_dirty_group(int n, const int *instances, const BpBlockNo *blocks,
								  int n_parts, const BpRedoPart *parts);
extern void bp_flush_list_remove(BpInstance *inst, BpLocalInstance *li, BpBlockNo b);
extern uint32 bp_dirty_pages_total(void);

#endif							/* BUFPOOL_EXT_FLUSH_H */

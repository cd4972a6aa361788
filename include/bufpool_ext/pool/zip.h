/*-------------------------------------------------------------------------
 *
 * zip.h
 *	  Compressed page images in the pool's memory, and the unzip_LRU
 *	  (src/pool/zip.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/pool/zip.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_ZIP_H
#define BUFPOOL_EXT_ZIP_H

#include "bufpool_ext/shared/shmem.h"

/* an image: the zip frame's block number << 8 | piece; BP_ZIP_NULL: none */
typedef uint64 BpZipRef;
#define BP_ZIP_NULL				PG_UINT64_MAX

/* InnoDB's BUF_LRU_STAT_N_INTERVAL (one-second intervals) */
#define BP_ZIP_STAT_INTERVALS	50

/* the read path (buf.c); the caller holds the page's partition lock exclusively */
extern BpZipRef bp_zip_claim(BpLocalInstance *li, uint64 h, BpBlockNo fb,
							 uint32 space_id, uint32 page_no, bool use);
typedef enum BpZipFill
{
	BP_ZIP_FILL_FAILED = 0,
	BP_ZIP_FILL_UNZIP,			/* decompressed: no I/O */
	BP_ZIP_FILL_READ			/* read from the overflow file */
} BpZipFill;

extern BpZipFill bp_zip_fill(int instance, BpBlockNo fb, BpZipRef ref);
extern void bp_zip_unpin(int instance, BpZipRef ref);
extern void bp_zip_forget(int instance, BpBlockNo fb);
extern void bp_zip_keep(int instance, BpBlockNo fb);
extern void bp_zip_count_io(int instance, uint64 ns);

/* a block leaves the page hash (partition lock held exclusively) */
/* what an eviction of a page does with its compressed image */
typedef enum BpZipEvict
{
	BP_ZIP_EVICT_PAGE,			/* the page goes (the LRU tail): the image too,
								 * but an overflow page's slot header stays */
	BP_ZIP_EVICT_FRAME,			/* only the frame goes (the unzip_LRU) */
	BP_ZIP_EVICT_ALL			/* everything goes (bufpool.evict, a drop) */
} BpZipEvict;

extern void bp_zip_block_evicted(BpLocalInstance *li, uint64 h, BpBlockNo b, BpZipEvict how);
extern void bp_zip_block_moved(BpLocalInstance *li, uint64 h, BpBlockNo b, BpBlockNo nb);

/* a zip frame at the LRU tail or in a chunk a shrink removes */
extern bool bp_zip_frame_evict(int instance, BpBlockNo zb, bool relocate);

/* after a page's write (flush.c) */
extern void bp_zip_written(int instance, BpBlockNo b);

extern void bp_zip_drop_space(uint32 space_id);
extern void bp_zip_rehash(BpLocalInstance *li, uint64 *new_buckets, uint32 new_mask);
extern bool bp_zip_evict_from_unzip(BpInstance *inst);
extern BpBlockNo bp_zip_unzip_victim(BpInstance *inst, BpLocalInstance *li, int depth);
extern void bp_zip_stat_tick(void);

/* for the views */
extern int	bp_zip_image_of(int instance, BpBlockNo b);
typedef void (*BpZipVisit) (void *arg, int instance, BpBlockNo zb, uint32 space_id,
							uint32 page_no, int image_size, bool frame_present);
extern void bp_zip_visit_frameless(BpZipVisit visit, void *arg);
extern int	bp_zip_class_size(int c);

#endif							/* BUFPOOL_EXT_ZIP_H */

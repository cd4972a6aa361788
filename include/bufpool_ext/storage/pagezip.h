/*-------------------------------------------------------------------------
 *
 * pagezip.h
 *	  Compressed page images of compressed spaces (src/storage/pagezip.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_PAGEZIP_H
#define BUFPOOL_EXT_PAGEZIP_H

#include "bufpool_ext/bufpool.h"	/* BpPageHeader */

/* compression of a space */
#define BP_ZIP_NONE			0
#define BP_ZIP_LZ4			1
#define BP_ZIP_ZSTD			2

/* the flags of a slot's page header */
#define BP_ZIP_F_COMPRESSED	0x0100
#define BP_ZIP_F_OVERFLOW	0x0200	/* the page is whole in the overflow file */
#define BP_ZIP_F_ALGO_SHIFT	12
#define BP_ZIP_F_ALGO_MASK	0xF000

/* key_block_size: from 1 kB to half the page, a power of two */
#define BP_ZIP_MIN_BLOCK	1024

extern const char *bp_zip_algorithm_name(int algorithm);
extern int	bp_zip_algorithm_from_name(const char *name);
extern int	bp_zip_compress(int algorithm, const char *page, int page_size, char *slot,
							int slot_size);
extern const char *bp_zip_check(const char *slot, int slot_size, uint32 space_id,
								uint32 page_no);
extern uint64 bp_zip_lsn(const char *slot);
extern int	bp_zip_used(const char *slot);
extern void bp_zip_overflow_slot(const char *page, char *slot, int slot_size);
extern bool bp_zip_is_overflow(const char *slot);
extern bool bp_zip_decompress(const char *slot, int slot_size, char *page, int page_size);

#endif							/* BUFPOOL_EXT_PAGEZIP_H */

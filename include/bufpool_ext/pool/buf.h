/*-------------------------------------------------------------------------
 *
 * buf.h
 *	  Internal page access (buf.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/pool/buf.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_BUF_H
#define BUFPOOL_EXT_BUF_H

#include "bufpool_ext/bufpool.h"
#include "bufpool_ext/shared/shmem.h"

extern void bp_buf_init(void);
extern BpPage bp_buf_fetch_raw(uint32 space_id, uint32 page_no, BpFetchInfo *info);
extern void bp_buf_release_raw(BpPage page);
extern BpPage bp_buf_peek(uint32 space_id, uint32 page_no);
extern bool bp_buf_evict_page(uint32 space_id, uint32 page_no, bool keep_zip);
extern void bp_buf_drop_space(uint32 space_id);
extern void bp_buf_pin_for_xact(uint32 space_id, uint32 page_no);

/* before-images of exclusively locked pages (buf.c), for mtr.c */
extern char *bp_page_image(BpPage page);
extern void bp_page_image_logged(BpPage page);
extern void bp_page_image_restore(BpPage page);
extern bool bp_page_fetched_new(BpPage page);
extern void bp_log_free_check_for(uint64 extra);
extern void bp_block_wait_clear(int instance, BpBlockNo b, uint32 bits);
extern void bp_content_lock(int instance, BpBlockNo b, bool exclusive);
extern void bp_content_unlock(int instance, BpBlockNo b, bool exclusive);

/* the warm-restart load (warm.c) */
extern BpBlockNo bp_buf_load_claim(uint32 space_id, uint32 page_no, bool young,
								   uint32 keep, int *instance_out, int *skip);
extern void bp_buf_load_done(int instance, BpBlockNo b, bool ok);
extern bool bp_buf_load_place(uint32 space_id, uint32 page_no, bool young);

#endif							/* BUFPOOL_EXT_BUF_H */

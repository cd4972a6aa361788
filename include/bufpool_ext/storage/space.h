/*-------------------------------------------------------------------------
 *
 * space.h
 *	  Tablespaces of bufpool_ext (space.c) and their pages (page.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/storage/space.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_SPACE_H
#define BUFPOOL_EXT_SPACE_H

#include "bufpool_ext/shared/shmem.h"

#define BP_DIR				"bufpool_ext"
#define BP_REGISTRY_FILE	"bufpool_ext/spaces.map"

/* space.c */
extern void bp_space_load_registry(void);
extern void bp_space_save_registry(void);
extern uint32 bp_space_create(const char *name, int64 size_pages);
extern void bp_space_drop(uint32 space_id);
extern bool bp_space_lookup(uint32 space_id, BpSpaceEntry *out);
extern void bp_space_check_page(uint32 space_id, int64 page_no);
extern void bp_space_read(uint32 space_id, uint32 page_no, char *buf);
extern bool bp_space_write(uint32 space_id, uint32 page_no, char *buf);
extern bool bp_space_write_prepared(uint32 space_id, uint32 page_no, const char *buf, int nbytes);
extern void bp_space_sync_pending(void);
extern bool bp_space_sync_pending_noerror(void);
extern void bp_space_start_writeback(void);
extern void bp_space_sync_all(void);
extern uint64 bp_space_max_lsn(void);
extern void bp_space_path(uint32 space_id, char *path, size_t len);

/* page.c */
extern bool bp_page_is_new(const char *page);
extern void bp_page_init(char *page, uint32 space_id, uint32 page_no);
extern uint32 bp_page_checksum(const char *page);
extern void bp_page_set_checksum(char *page);
extern void bp_page_verify(const char *page, uint32 space_id, uint32 page_no);
extern void bp_page_prepare_write(char *page, uint32 space_id, uint32 page_no);
extern bool bp_page_is_intact(const char *page, uint32 space_id, uint32 page_no);

/* buf.c: discarding pages of a dropped space */
extern void bp_buf_discard_space(uint32 space_id);

#endif							/* BUFPOOL_EXT_SPACE_H */

/*-------------------------------------------------------------------------
 *
 * space.h
 *	  Tablespaces of bufpool_ext and their files (space.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/storage/space.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_SPACE_H
#define BUFPOOL_EXT_SPACE_H

#include "bufpool_ext/base/page.h"
#include "bufpool_ext/shared/shmem.h"

#define BP_DIR				"bufpool_ext"
#define BP_REGISTRY_FILE	"bufpool_ext/spaces.map"

/*
 * The newest LSN handed out beyond BpShared.next_lsn, saved with the
 * registry so LSNs keep growing across restarts: set by the redo log
 * when it sets up its shared memory (a layer above may not be called).
 */
extern uint64 (*bp_space_lsn_source) (void);

/* a part of a file bp_file_write_checksummed writes */
typedef struct BpFilePart
{
	const void *data;
	Size		len;
} BpFilePart;

extern void bp_file_write_checksummed(const char *path, const BpFilePart *parts, int n_parts,
									  const char *fault_point);

extern void bp_space_load_registry(void);
extern void bp_space_save_registry(void);
extern uint32 bp_space_create(const char *name, int64 size_pages);
extern uint32 bp_space_create_compressed(const char *name, int64 size_pages, int compression,
										 int key_block_size);
extern void bp_space_mark_dropping(uint32 space_id);
extern void bp_space_remove(uint32 space_id);
extern bool bp_space_lookup(uint32 space_id, BpSpaceEntry *out);
extern uint32 bp_space_find(const char *name);
extern int64 bp_space_size(uint32 space_id);
extern int64 bp_space_extend(uint32 space_id, int64 n_pages);
extern void bp_space_check_page(uint32 space_id, int64 page_no);
extern void bp_space_read(uint32 space_id, uint32 page_no, char *buf);

/* the longest run bp_space_read_run reads in one call */
#define BP_READ_RUN_MAX	64
extern void bp_space_read_run(uint32 space_id, uint32 first, int n, char **bufs);
extern bool bp_space_zip_page_ok(uint32 space_id, uint32 page_no);
extern const char *bp_space_last_slot(uint32 space_id, uint32 page_no, int *len);
extern bool bp_space_zip_decompress(uint32 space_id, const char *slot, int len, char *page);
extern bool bp_space_read_overflow(uint32 space_id, uint32 page_no, uint64 lsn, char *buf);
extern void bp_space_prefetch(uint32 space_id, uint32 first, int n);
extern bool bp_space_write(uint32 space_id, uint32 page_no, char *buf);
extern bool bp_space_write_prepared(uint32 space_id, uint32 page_no, const char *buf, int nbytes);
extern void bp_space_sync_pending(void);
extern bool bp_space_sync_pending_noerror(void);
extern void bp_space_start_writeback(void);
extern void bp_space_sync_all(void);
extern uint64 bp_space_max_lsn(void);
extern void bp_space_path(uint32 space_id, char *path, size_t len);

#endif							/* BUFPOOL_EXT_SPACE_H */

/*-------------------------------------------------------------------------
 *
 * page.h
 *	  The on-page header of bufpool_ext pages and its checksum (page.c).
 *
 * The header's layout, BpPageHeader, is public (bufpool.h).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/base/page.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_PAGE_H
#define BUFPOOL_EXT_PAGE_H

#include "bufpool_ext/bufpool.h"

/* the pool's page size, set when shared memory is set up (shmem.c) */
extern PGDLLIMPORT int BpPageSize;

/* bufpool_ext.page_size's bounds (guc.c) */
#define BP_PAGE_SIZE_MIN	4096
#define BP_PAGE_SIZE_MAX	65536

extern bool bp_bytes_are_zero(const char *p, int n);
extern bool bp_page_is_new(const char *page);
extern void bp_page_init(char *page, uint32 space_id, uint32 page_no);
extern uint32 bp_page_checksum(const char *page);
extern void bp_page_set_checksum(char *page);
extern void bp_page_verify(const char *page, uint32 space_id, uint32 page_no);
extern void bp_page_prepare_write(char *page, uint32 space_id, uint32 page_no);
extern bool bp_page_is_intact(const char *page, uint32 space_id, uint32 page_no);

#endif							/* BUFPOOL_EXT_PAGE_H */

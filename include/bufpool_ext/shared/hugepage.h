/*-------------------------------------------------------------------------
 *
 * hugepage.h
 *	  Chunk memory in hugetlbfs files, NUMA placement, and the page size
 *	  the kernel gave a mapping (src/shared/hugepage.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_HUGEPAGE_H
#define BUFPOOL_EXT_HUGEPAGE_H

#include "bufpool_ext/base/guc.h"	/* BP_HUGE_*, BP_NUMA_* */

extern Size bp_huge_default_size(void);
extern Size bp_huge_page_size(void);
extern long bp_huge_available_pages(Size page_size);
extern bool bp_huge_dir(Size page_size, char *dir, size_t len, char *why, size_t why_len);
extern char *bp_huge_create(const char *dir, uint32 handle, Size size, char *why, size_t why_len);
extern char *bp_huge_map(const char *dir, uint32 handle, Size size);
extern void bp_huge_release(const char *dir, uint32 handle, Size size);
extern int	bp_huge_cleanup(void);
extern uint32 bp_mapping_page_kb(const void *addr);

extern int	bp_numa_nodes(void);
extern bool bp_numa_mbind(void *addr, Size size, int placement, int node);
extern bool bp_numa_count(const char *addr, Size size, Size step, int64 *counts, int max_nodes,
						  int64 *absent);

#endif							/* BUFPOOL_EXT_HUGEPAGE_H */

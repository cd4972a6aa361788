/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  Settings of bufpool_ext (bufpool_ext.*).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/base/guc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_GUC_H
#define BUFPOOL_EXT_GUC_H

/* startup settings */
extern int	bp_size_mb;
extern int	bp_max_size_mb;
extern int	bp_resize_timeout_ms;
extern int	bp_backend_memory_interval_ms;
extern bool bp_backend_memory_contexts;
extern int	bp_chunk_size_mb;
extern int	bp_instances;
extern int	bp_page_size;
extern bool bp_numa_interleave;	/* the old name of numa_placement = interleave */
extern int	bp_numa_placement;
extern int	bp_huge_pages;
extern int	bp_huge_page_size_kb;
extern char *bp_huge_page_dir;

/* bufpool_ext.huge_pages */
#define BP_HUGE_OFF			0
#define BP_HUGE_TRY			1
#define BP_HUGE_ON			2

/* bufpool_ext.numa_placement */
#define BP_NUMA_OFF			0
#define BP_NUMA_INTERLEAVE	1
#define BP_NUMA_INSTANCE	2

/* the placement in force: numa_placement, or interleave for numa_interleave */
#define BP_NUMA_PLACEMENT() \
	(bp_numa_placement != BP_NUMA_OFF ? bp_numa_placement : \
	 bp_numa_interleave ? BP_NUMA_INTERLEAVE : BP_NUMA_OFF)
extern int	bp_page_cleaners;
extern int	bp_buddy_size_kb;
extern int	bp_size_class_prealloc;
extern int	bp_doublewrite_batch_pages;

/* reloadable settings */
extern int	bp_old_blocks_pct;
extern int	bp_old_blocks_time;
extern bool bp_old_blocks_time_adaptive;
extern int	bp_lru_boundary;
extern int	bp_hot_page_halflife_s;
extern int	bp_io_capacity;
extern int	bp_io_capacity_max;
extern double bp_max_dirty_pages_pct;
extern double bp_max_dirty_pages_pct_lwm;
extern int	bp_lru_scan_depth;
extern int	bp_ready_timeout_ms;
extern bool bp_doublewrite;

extern int	bp_flush_log_at_commit;
extern int	bp_log_buffer_size_kb;
extern int	bp_log_file_size_mb;
extern int	bp_checkpoint_timeout_s;

/* bufpool_ext.lru_boundary */
#define BP_LRU_BOUNDARY_ACCESS	0	/* young only by an access; young part capped */
#define BP_LRU_BOUNDARY_INNODB	1	/* old part kept at old_blocks_pct of the LRU */

extern bool bp_dump_at_shutdown;
extern bool bp_load_at_startup;
extern int	bp_dump_pct;
extern int	bp_dump_interval_s;
extern int	bp_load_io_depth;
#define BP_GOVERNOR_OFF		0
#define BP_GOVERNOR_OBSERVE	1
#define BP_GOVERNOR_ON		2
extern int	bp_memory_governor;
extern int	bp_memory_limit_mb;
extern int	bp_min_size_mb;
extern int	bp_memory_attention_pct;
extern int	bp_memory_warning_pct;
extern int	bp_memory_danger_pct;
extern int	bp_memory_emergency_pct;
extern double bp_pressure_warning_pct;
extern double bp_pressure_danger_pct;
extern double bp_pressure_emergency_pct;
extern int	bp_regrow_delay_s;
extern int	bp_emergency_alloc_limit_kb;
extern int	bp_leak_check_interval_ms;
extern int	bp_leak_samples;
extern void bp_guc_init(void);

#endif							/* BUFPOOL_EXT_GUC_H */

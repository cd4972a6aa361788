/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Settings of bufpool_ext.
 *
 * Startup settings (size, chunk_size, instances, page_size, page_cleaners,
 * numa_interleave, numa_placement, huge_pages, huge_page_size,
 * huge_page_dir, doublewrite_batch_pages) are frozen into BpShared when shared memory is set up;
 * the others are read by each process from its own GUC copy, so a reload
 * reaches every process at its next command (workers on SIGHUP).
 *
 * bufpool_ext.doublewrite is PGC_SIGHUP rather than a startup setting:
 * the doublewrite file and its slots exist whatever its value (the file
 * is formatted at every pool build), so turning it on or off only
 * decides whether a process's next write batch goes through the file.
 * A batch already started finishes the way it began.  Its layout
 * (doublewrite_batch_pages) is fixed at startup.
 *
 * IDENTIFICATION
 *	  src/base/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/page.h"

int			bp_size_mb = 128;
int			bp_max_size_mb = 65536;
int			bp_resize_timeout_ms = 60000;
int			bp_chunk_size_mb = 32;
int			bp_instances = 1;
int			bp_page_size = 16384;
bool		bp_numa_interleave = false;
int			bp_numa_placement = BP_NUMA_OFF;
int			bp_huge_pages = BP_HUGE_OFF;
int			bp_huge_page_size_kb = 0;
char	   *bp_huge_page_dir = NULL;
int			bp_page_cleaners = 1;
int			bp_buddy_size_kb = 1024;
int			bp_size_class_prealloc = 0;
int			bp_doublewrite_batch_pages = 128;

int			bp_old_blocks_pct = 37;
int			bp_old_blocks_time = 1000;
bool		bp_old_blocks_time_adaptive = true;
int			bp_lru_boundary = BP_LRU_BOUNDARY_ACCESS;
int			bp_hot_page_halflife_s = 10;
int			bp_io_capacity = 200;
int			bp_io_capacity_max = 2000;
double		bp_max_dirty_pages_pct = 90.0;
double		bp_max_dirty_pages_pct_lwm = 10.0;
int			bp_lru_scan_depth = 1024;
int			bp_ready_timeout_ms = 10000;
bool		bp_doublewrite = true;
int			bp_backend_memory_interval_ms = 1000;
bool		bp_backend_memory_contexts = true;
int			bp_flush_log_at_commit = 1;
int			bp_log_buffer_size_kb = 16384;
int			bp_log_file_size_mb = 96;
int			bp_checkpoint_timeout_s = 30;
bool		bp_dump_at_shutdown = true;
bool		bp_load_at_startup = true;
int			bp_dump_pct = 25;
int			bp_dump_interval_s = 0;
int			bp_load_io_depth = 8;
int			bp_memory_governor = BP_GOVERNOR_OBSERVE;
int			bp_memory_limit_mb = 0;
int			bp_min_size_mb = 32;
int			bp_memory_attention_pct = 50;
int			bp_memory_warning_pct = 75;
int			bp_memory_danger_pct = 85;
int			bp_memory_emergency_pct = 95;
double		bp_pressure_warning_pct = 10.0;
double		bp_pressure_danger_pct = 20.0;
double		bp_pressure_emergency_pct = 10.0;
int			bp_regrow_delay_s = 60;
int			bp_emergency_alloc_limit_kb = 1024;
int			bp_leak_check_interval_ms = 10000;
int			bp_leak_samples = 6;

static const struct config_enum_entry bp_governor_options[] = {
	{"off", BP_GOVERNOR_OFF, false},
	{"observe", BP_GOVERNOR_OBSERVE, false},
	{"on", BP_GOVERNOR_ON, false},
	{NULL, 0, false}
};

static const struct config_enum_entry bp_huge_pages_options[] = {
	{"off", BP_HUGE_OFF, false},
	{"try", BP_HUGE_TRY, false},
	{"on", BP_HUGE_ON, false},
	{NULL, 0, false}
};

static const struct config_enum_entry bp_numa_placement_options[] = {
	{"off", BP_NUMA_OFF, false},
	{"interleave", BP_NUMA_INTERLEAVE, false},
	{"instance", BP_NUMA_INSTANCE, false},
	{NULL, 0, false}
};

static const struct config_enum_entry bp_lru_boundary_options[] = {
	{"access", BP_LRU_BOUNDARY_ACCESS, false},
	{"innodb", BP_LRU_BOUNDARY_INNODB, false},
	{NULL, 0, false}
};

void
bp_guc_init(void)
{
	DefineCustomIntVariable("bufpool_ext.size",
							"Size of the buffer pool.",
							"Rounded up to a multiple of chunk_size times instances.  A reload resizes the pool online.",
							&bp_size_mb, 128, 1, 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_MB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.max_size",
							"Largest size the buffer pool may be resized to.",
							NULL,
							&bp_max_size_mb, 65536, 1, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_MB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.resize_timeout",
							"How long a shrink waits for pinned pages before it gives up.",
							NULL,
							&bp_resize_timeout_ms, 60000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.flush_log_at_commit",
							"When a page change's redo record must be on disk.",
							"1: written and fsynced before bufpool.write_page returns (group commit); 2: written before it returns, fsynced about every second; 0: written and fsynced about every second.",
							&bp_flush_log_at_commit, 1, 0, 2,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.log_buffer_size",
							"Size of the redo log buffer in shared memory.",
							"It is written to the log file when it is more than half full, and at least every second.",
							&bp_log_buffer_size_kb, 16384, 256, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.log_file_size",
							"Size of the circular redo log file.",
							"A checkpoint is made when the log is half full; a change waits for one when the log is full.",
							&bp_log_file_size_mb, 96, 8, 65536,
							PGC_POSTMASTER, GUC_UNIT_MB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.checkpoint_timeout",
							"Longest time between two checkpoints of the log writer.",
							NULL,
							&bp_checkpoint_timeout_s, 30, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.backend_memory_interval",
							"Minimum time between two publications of a session's memory-context totals in bufpool.backend_memory.",
							"0 publishes at the end of every statement.",
							&bp_backend_memory_interval_ms, 1000, 0, 3600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("bufpool_ext.backend_memory_contexts",
							 "Publish per-context lines for bufpool.backend_memory_contexts.",
							 "Each process keeps them in a small shared arena on buddy memory; off frees it at the next publication.",
							 &bp_backend_memory_contexts, true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.chunk_size",
							"Size of one chunk (one DSM segment) of the buffer pool.",
							NULL,
							&bp_chunk_size_mb, 32, 1, 4096,
							PGC_POSTMASTER, GUC_UNIT_MB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.instances",
							"Number of buffer pool instances.",
							NULL,
							&bp_instances, 1, 1, 64,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.page_size",
							"Page size of bufpool_ext tablespaces.",
							"A power of two between 4 kB and 64 kB.",
							&bp_page_size, 16384, BP_PAGE_SIZE_MIN, BP_PAGE_SIZE_MAX,
							PGC_POSTMASTER, GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("bufpool_ext.numa_interleave",
							 "Interleave buffer pool memory across NUMA nodes (the old name of numa_placement = interleave).",
							 "Used only while bufpool_ext.numa_placement is off.",
							 &bp_numa_interleave, false,
							 PGC_POSTMASTER, 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("bufpool_ext.numa_placement",
							 "Where chunk memory goes on a NUMA machine.",
							 "interleave: across all nodes; instance: instance i's chunks on node i mod nodes; applied to every chunk before its first touch, a grow's too.",
							 &bp_numa_placement, BP_NUMA_OFF, bp_numa_placement_options,
							 PGC_POSTMASTER, 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("bufpool_ext.huge_pages",
							 "Whether chunks use explicit huge pages (files in a hugetlbfs mount).",
							 "try: fall back to normal pages, with a LOG line saying why; on: a chunk that cannot have them fails (the pool build or the grow).",
							 &bp_huge_pages, BP_HUGE_OFF, bp_huge_pages_options,
							 PGC_POSTMASTER, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.huge_page_size",
							"Size of the huge pages of chunks; 0: the system's default.",
							NULL,
							&bp_huge_page_size_kb, 0, 0, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomStringVariable("bufpool_ext.huge_page_dir",
							   "Directory in a hugetlbfs mount for the chunk files; empty: the first writable mount of the page size.",
							   NULL,
							   &bp_huge_page_dir, "",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.page_cleaners",
							"Number of page cleaner background workers.",
							NULL,
							&bp_page_cleaners, 1, 1, 64,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.buddy_size",
							"Shared memory set aside for the buddy allocator, for all instances together.",
							"Split evenly between the instances, rounded down to whole pages per instance.  When it is used up, the buddy allocator takes frames from chunk 0 of the buffer pool.",
							&bp_buddy_size_kb, 1024, 0, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.size_class_prealloc",
							"Slabs of each size class kept per instance, taken when the class is first used there.",
							"The size-class pools (src/mmgr/sizeclass.c) otherwise take a slab when a class needs one and give it back to the buddy allocator when it empties; kept slabs are never given back.",
							&bp_size_class_prealloc, 0, 0, 1024,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("bufpool_ext.doublewrite",
							 "Write pages to the doublewrite file, and fsync it, before writing them in place.",
							 "Protects against torn pages: at pool start, a page whose checksum fails is restored from its copy there (src/storage/dblwr.c).  A reload takes effect at each process's next write batch.",
							 &bp_doublewrite, true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.doublewrite_batch_pages",
							"Pages per doublewrite batch region (two per page cleaner, and two shared).",
							"A flush writes at most this many pages per doublewrite write and fsync.",
							&bp_doublewrite_batch_pages, 128, 1, 4096,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.old_blocks_pct",
							"Percentage of the pool's page blocks kept out of the young sublist (the old sublist and the free list).",
							"With lru_boundary = innodb: the percentage of the LRU list kept in the old sublist.",
							&bp_old_blocks_pct, 37, 5, 95,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.old_blocks_time",
							"Time an old block must stay in the old sublist after its first access before it can be made young.",
							NULL,
							&bp_old_blocks_time, 1000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("bufpool_ext.old_blocks_time_adaptive",
							 "Cap old_blocks_time at half the time a block lasts in the old sublist.",
							 "Without the cap, a pool whose old sublist turns over faster than old_blocks_time makes no block young at all (InnoDB's behaviour).",
							 &bp_old_blocks_time_adaptive, true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("bufpool_ext.lru_boundary",
							 "How the boundary between the young and old sublists moves.",
							 "access: a block becomes young only by an access that makes it young, and the young sublist holds at most (100 - old_blocks_pct)% of the LRU and free blocks.  "
							 "innodb: the old sublist is kept at old_blocks_pct% of the LRU list's current length, as InnoDB does; blocks then cross the boundary without an access when the list shrinks and grows (page cleaners refilling the free list).",
							 &bp_lru_boundary, BP_LRU_BOUNDARY_ACCESS, bp_lru_boundary_options,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.hot_page_halflife",
							"Half-life of a page's access frequency (bufpool.hot_pages).",
							"A page's estimated access count halves every this many seconds, so the views show what is hot now.  "
							"The heat clock's tick is a sixteenth of it, so it is fixed at server start.",
							&bp_hot_page_halflife_s, 10, 1, 3600,
							PGC_POSTMASTER, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.io_capacity",
							"Pages per second the page cleaners write in normal operation.",
							NULL,
							&bp_io_capacity, 200, 100, 1000000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.io_capacity_max",
							"Pages per second the page cleaners may write when behind.",
							NULL,
							&bp_io_capacity_max, 2000, 100, 1000000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomRealVariable("bufpool_ext.max_dirty_pages_pct",
							 "Percentage of dirty pages above which the page cleaners write at io_capacity_max.",
							 NULL,
							 &bp_max_dirty_pages_pct, 90.0, 0.0, 99.999,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomRealVariable("bufpool_ext.max_dirty_pages_pct_lwm",
							 "Percentage of dirty pages at which adaptive flushing starts (0 disables it).",
							 NULL,
							 &bp_max_dirty_pages_pct_lwm, 10.0, 0.0, 99.999,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.lru_scan_depth",
							"How far per instance and pass the page cleaners look from the LRU tail for pages to free.",
							NULL,
							&bp_lru_scan_depth, 1024, 100, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.ready_timeout",
							"How long a session waits for the pool to be built before it reports an error.",
							NULL,
							&bp_ready_timeout_ms, 10000, 0, 600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("bufpool_ext.dump_at_shutdown",
							 "Writes the page ids of the hottest part of each LRU list to a file at shutdown.",
							 "The file is loaded at the next start (bufpool_ext.load_at_startup).",
							 &bp_dump_at_shutdown, true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("bufpool_ext.load_at_startup",
							 "Loads the pages named by the last dump when the pool starts.",
							 NULL,
							 &bp_load_at_startup, true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.dump_pct",
							"Percentage of each instance's LRU list, from its head, that a dump writes.",
							"A superuser may SET it for the dumps bufpool.dump() makes in the session.",
							&bp_dump_pct, 25, 1, 100,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.dump_interval",
							"Time between periodic dumps of the pool's hottest pages; 0 dumps only at shutdown.",
							NULL,
							&bp_dump_interval_s, 0, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.load_io_depth",
							"Runs of pages the warm-restart load keeps in flight (read-ahead hints).",
							NULL,
							&bp_load_io_depth, 8, 1, 256,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("bufpool_ext.memory_governor",
							 "Whether the memory governor watches the kernel's memory signals (observe) and acts on them (on).",
							 "off: no sampling at all; observe: levels and log lines, no action; on: flush harder, stop growing, shrink the pool, refuse large allocations.",
							 &bp_memory_governor, BP_GOVERNOR_OBSERVE, bp_governor_options,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.memory_limit",
							"Memory limit the governor measures use against; 0 takes the cgroup's limit or the machine's memory.",
							NULL,
							&bp_memory_limit_mb, 0, 0, INT_MAX / 2,
							PGC_SIGHUP, GUC_UNIT_MB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.min_size",
							"Smallest pool size the memory governor shrinks to.",
							NULL,
							&bp_min_size_mb, 32, 1, INT_MAX / 2,
							PGC_SIGHUP, GUC_UNIT_MB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.memory_attention_pct",
							"Working set, in percent of the memory limit, from which the memory level is attention.",
							NULL,
							&bp_memory_attention_pct, 50, 1, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.memory_warning_pct",
							"Working set, in percent of the memory limit, from which the memory level is warning.",
							NULL,
							&bp_memory_warning_pct, 75, 1, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.memory_danger_pct",
							"Working set, in percent of the memory limit, from which the memory level is danger.",
							NULL,
							&bp_memory_danger_pct, 85, 1, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.memory_emergency_pct",
							"Working set, in percent of the memory limit, from which the memory level is emergency.",
							NULL,
							&bp_memory_emergency_pct, 95, 1, 100,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomRealVariable("bufpool_ext.pressure_warning_pct",
							 "Memory stall (PSI some avg10, percent) above which the memory level is at least warning.",
							 NULL,
							 &bp_pressure_warning_pct, 10.0, 0.0, 100.0,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomRealVariable("bufpool_ext.pressure_danger_pct",
							 "Memory stall (PSI some avg10, percent) above which the memory level is at least danger.",
							 NULL,
							 &bp_pressure_danger_pct, 20.0, 0.0, 100.0,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomRealVariable("bufpool_ext.pressure_emergency_pct",
							 "Memory stall of all tasks (PSI full avg10, percent) above which the memory level is emergency.",
							 NULL,
							 &bp_pressure_emergency_pct, 10.0, 0.0, 100.0,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.regrow_delay",
							"How long the memory level must stay normal before the governor grows the pool back.",
							NULL,
							&bp_regrow_delay_s, 60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.leak_check_interval",
							"Time between two checks for suspected memory leaks (bufpool.memory_leaks).",
							"0 turns the checks off.",
							&bp_leak_check_interval_ms, 10000, 0, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.leak_samples",
							"Checks in a row in which an instrument or a process's kept memory must grow before it is reported as a suspected leak.",
							NULL,
							&bp_leak_samples, 6, 2, 1000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("bufpool_ext.emergency_alloc_limit",
							"At the emergency memory level, an arena or heap block larger than this is refused.",
							NULL,
							&bp_emergency_alloc_limit_kb, 1024, 8, INT_MAX / 2,
							PGC_SIGHUP, GUC_UNIT_KB,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("bufpool_ext");

	/*
	 * Checked here rather than in a check hook: a check hook's rejection of
	 * a value from the configuration file of a preloaded library is only a
	 * WARNING, and the server would start with the default.  An ERROR while
	 * preloading stops the postmaster.
	 */
	if (process_shared_preload_libraries_in_progress && bp_size_mb > bp_max_size_mb)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_ext.size %d MB is larger than bufpool_ext.max_size %d MB",
						bp_size_mb, bp_max_size_mb)));
	if ((bp_page_size & (bp_page_size - 1)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"bufpool_ext.page_size\": %d", bp_page_size),
				 errdetail("bufpool_ext.page_size must be a power of two between 4096 and 65536.")));
}

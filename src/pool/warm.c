/*-------------------------------------------------------------------------
 *
 * warm.c
 *	  Warm restart: dump the hottest pages of the pool and load them back
 *	  after a restart (issue 18).  DESIGN ONLY so far: nothing below is
 *	  compiled into the library yet; this header is the plan the code will
 *	  follow.
 *
 * What is dumped.  For each instance, the first dump_pct percent of its
 * LRU list from the head (young sublist first, then old), in list order:
 * the order is the hotness, and the load gives it back.  The walk takes
 * lru_lock for at most 256 blocks at a time (copying space_id, page_no,
 * is_old) and goes on from the block it stopped at if that block is still
 * on the LRU list, else stops early (a resize or a burst of evictions
 * moved the list under it; the dump says so in its message).  Pages of a
 * space that is not ACTIVE are left out.
 *
 * Space identity.  Space ids are not reused while the registry lives, but
 * a registry lost or rebuilt would hand an old id to a new space.  The
 * registry entry gains a 64-bit creation identity (random, from
 * pg_strong_random, with the creation time) and the dump stores, per
 * space, (space_id, identity, size_pages); the load skips every page of a
 * space whose id no longer has that identity (counted as "space dropped")
 * and every page at or past its current size ("page beyond the space").
 * The registry's format version goes up; a registry of the old version is
 * read with identity 0, which never matches a dump.
 *
 * File.  $PGDATA/bufpool_ext/buffer_pool_dump, binary: a header (magic,
 * format version, page size, the cluster's system identifier from
 * pg_control, instances, entry count, the dump's time and LSN), the space
 * table, then the entries (space index: uint16, is_old: 1 bit, page_no:
 * 48 bits; 8 bytes a page, about 512 kB per GiB of 16 kB pages at 100%,
 * InnoDB's text file is about the same), and a CRC-32C of all of it.  It
 * is written to buffer_pool_dump.tmp, fsynced and renamed with
 * durable_rename: a crash during a dump leaves the previous dump or none,
 * never a truncated one taken for complete (checked by the CRC and the
 * entry count in any case).
 *
 * When.  At shutdown (dump_at_shutdown, on): the pool manager, after the
 * final flush, before it detaches.  Every dump_interval (0 = only at
 * shutdown) by the pool manager's loop, so that a crash still leaves a
 * recent dump.  On demand: bufpool.dump() returns the pages written.
 *
 * Load.  A dynamic background worker ("bufpool_ext warm loader") started
 * by the pool manager once the pool is READY and recovery has run (so
 * only clean, checksummed images come in); the pool serves sessions at
 * once.  It reads and checks the file (magic, version, page size, system
 * identifier, CRC: any failure is one WARNING naming the file and the
 * reason, and a cold start), drops the entries of unknown spaces, sorts
 * the rest by (space, page), and reads runs of adjacent pages with
 * posix_fadvise(WILLNEED) load_io_depth runs ahead of preadv into a local
 * buffer, then inserts each page through the pool's miss path in a mode
 * that takes only a free block (never evicts: "no free block left" ends
 * the load) and skips pages already in the pool.  Pages go in hottest
 * last, so the LRU ends in the dumped order: young pages at the head,
 * the rest at the midpoint.  Between batches it yields: it checks for
 * abort, shutdown and a resize in progress (a shrink waits for the
 * loader's batch; a grow just adds free blocks), and sleeps when
 * sessions are waiting on I/O (foreground fetches must not queue behind
 * it; the benchmark measures their p99).
 *
 * Status.  A small ring of the last 8 operations in main shared memory
 * (operation, state, started, finished, pages_total, pages_done,
 * pages_skipped by reason, bytes_per_s, message), under its own spinlock,
 * read by the view bufpool.dump_load_status; one LOG line at the end of
 * each operation, as InnoDB prints "Buffer pool(s) load completed".
 * bufpool.load(wait) starts the loader (ERROR naming the running load if
 * one runs); bufpool.load_abort() sets the abort flag the loader checks.
 *
 * Layers.  The dump walk and the insert mode are pool-layer code (this
 * file, src/pool); the file format and its checks could live in storage
 * but need the pool's page-size and instance facts, so they stay here;
 * the loader worker is in src/workers, the SQL in src/sql.
 *
 * Copyright (c) 2026, bufpool_ext developers
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

/*-------------------------------------------------------------------------
 *
 * workers.h
 *	  Background workers: pool manager (manager.c), log writer
 *	  (logwriter.c), page cleaners (cleaner.c), and what they share
 *	  (worker.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/workers/workers.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_WORKERS_H
#define BUFPOOL_EXT_WORKERS_H

extern void bp_workers_register(void);
extern void bp_worker_init(void);
extern void bp_worker_wait_ready(void);
extern bool bp_worker_sleep(long timeout_ms);
extern void bp_final_flush(int first, int step, uint32 worker_bit);

/* bit of a worker in BpShmem->shutting_down */
#define BP_SHUTDOWN_BIT_MANAGER		1U
#define BP_SHUTDOWN_BIT_CLEANER(k)	(1U << (1 + ((k) % 31)))

extern PGDLLEXPORT void bp_manager_main(Datum arg);
extern PGDLLEXPORT void bp_cleaner_main(Datum arg);
extern PGDLLEXPORT void bp_log_writer_main(Datum arg);
extern PGDLLEXPORT void bp_loader_main(Datum arg);

/* governor.c */
extern void bp_governor_sample(void);
extern long bp_governor_next_ms(void);
extern int	bp_governor_wait_fd(void);
extern void bp_governor_psi_fired(void);

/* leaks.c */
extern void bp_leaks_check(void);
extern long bp_leaks_next_ms(void);
struct BpLeakRow;
extern int	bp_leaks_read(struct BpLeakRow *rows);

/* loader.c */
struct BackgroundWorkerHandle;
extern int64 bp_loader_start(struct BackgroundWorkerHandle **handle);

#endif							/* BUFPOOL_EXT_WORKERS_H */

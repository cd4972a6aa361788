/*-------------------------------------------------------------------------
 *
 * memsignal.h
 *	  The kernel's memory signals for the memory governor (memsignal.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/base/memsignal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_MEMSIGNAL_H
#define BUFPOOL_EXT_MEMSIGNAL_H

typedef enum BpMemSource
{
	BP_MEMSRC_NONE = 0,
	BP_MEMSRC_CGROUP2,
	BP_MEMSRC_CGROUP1,
	BP_MEMSRC_MEMINFO,
	BP_MEMSRC_INJECTED			/* a test's readings (fault point memory-signals) */
} BpMemSource;

typedef struct BpMemSignals
{
	int			source;			/* BpMemSource */
	int64		limit;			/* bytes */
	int64		usage;			/* bytes, page cache included */
	int64		working_set;	/* usage minus inactive file cache */
	double		psi_some_avg10; /* %, -1 if unknown */
	double		psi_full_avg10; /* %, -1 if unknown */
	char		where[MAXPGPATH];	/* the cgroup directory or /proc/meminfo */
	char		error[256];		/* why a read failed */
} BpMemSignals;

/* memory levels, worst last (the governor's; src/workers/governor.c) */
typedef enum BpMemLevel
{
	BP_LEVEL_NORMAL = 0,
	BP_LEVEL_ATTENTION,
	BP_LEVEL_WARNING,
	BP_LEVEL_DANGER,
	BP_LEVEL_EMERGENCY
} BpMemLevel;

extern bool bp_memsignal_read(BpMemSignals *s);

/* small kernel files: a number in dir/name, or a "key value" line of path */
extern bool bp_read_number(const char *dir, const char *name, int64 *out);
extern bool bp_read_keyed(const char *path, const char *key, int64 multiplier, int64 *out);
extern const char *bp_mem_level_name(int level);
extern const char *bp_memsignal_source_name(int source);

extern int	bp_psi_trigger_arm(double pct, const char **why);
extern void bp_psi_trigger_disarm(void);
extern void bp_psi_trigger_drain(void);
extern const char *bp_psi_trigger_desc(void);
extern uint32 bp_psi_trigger_generation(void);

#endif							/* BUFPOOL_EXT_MEMSIGNAL_H */

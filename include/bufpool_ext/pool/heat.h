/*-------------------------------------------------------------------------
 *
 * heat.h
 *	  Per-page access frequency that decays with time (heat.c).
 *
 * Each block descriptor has a 16-bit heat counter, a logarithmic
 * (Morris) counter of sampled accesses with BP_HEAT_STEPS steps per
 * doubling, and an 8-bit heat_tick, the heat clock's tick (a sixteenth of
 * bufpool_ext.hot_page_halflife) at the last sampled access.  A tick of
 * idle time takes BP_HEAT_DECAY_STEPS off the counter, so the estimate
 * halves every half-life.  The hit path only counts down a per-process
 * variable: one access in BP_HEAT_SAMPLE_MEAN on average (the gap is
 * random, so a regular access pattern cannot hide from it) updates the
 * two fields, and writes them only if they changed, which for a hot page
 * is rare.  Updates are plain stores without a lock; two processes
 * sampling one page at once may lose one of the two samples.
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/pool/heat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_HEAT_H
#define BUFPOOL_EXT_HEAT_H

#include "bufpool_ext/shared/shmem.h"

#define BP_HEAT_STEPS			128 /* counter steps per doubling of the estimate */
#define BP_HEAT_TICKS			16	/* heat clock ticks per half-life */
#define BP_HEAT_DECAY_STEPS		(BP_HEAT_STEPS / BP_HEAT_TICKS)	/* per idle tick */
#define BP_HEAT_SAMPLE_MEAN		32	/* one access in this many is sampled, on average */
#define BP_HEAT_COLD_TICKS		128 /* idle this many ticks (8 half-lives): no heat */
#define BP_HEAT_SWEEP_TICKS		32	/* cold counters are cleared this often */
#define BP_HEAT_AHEAD_TICKS		15	/* a stamp this far ahead of a reader is "now" */

extern void bp_heat_sample(BpLocalInstance *li, BpBlockDesc *d);

/*
 * An access (a get) to block d of the instance li: sample it now and then.
 * li->heat_left counts down to the next sample (a process-local field
 * next to what the hit path reads anyway); the sample also adds the gets
 * of the gap to this process's counters (bp_counters_publish), so the
 * hit path has no counter of its own to bump.
 */
static inline void
bp_heat_access(BpLocalInstance *li, BpBlockDesc *d)
{
	if (unlikely(--li->heat_left == 0))
		bp_heat_sample(li, d);
}

/* What the views need of one block's heat, decayed to now. */
typedef struct BpHeatView
{
	uint16		frequency;		/* the counter after decay */
	double		est_accesses;	/* accesses it stands for, decayed */
	double		accesses_per_s; /* estimated rate */
	int64		last_access_ms; /* ms since the last sampled access, -1 unknown */
} BpHeatView;

/* The clocks a view reads once */
typedef struct BpHeatClock
{
	uint64		tick;			/* heat clock ticks since the pool started */
	double		tick_ms;		/* length of a tick */
	double		phase_ms;		/* time into the current tick */
	uint32		now_ms;			/* bp_now_ms() */
} BpHeatClock;

extern uint64 bp_heat_now_tick(void);
extern void bp_heat_clock(BpHeatClock *clk);
extern void bp_heat_read(uint16 heat, uint8 heat_tick, uint32 access_time,
						 const BpHeatClock *clk, BpHeatView *out);
extern void bp_heat_sweep_if_due(void);

#endif							/* BUFPOOL_EXT_HEAT_H */

/*-------------------------------------------------------------------------
 *
 * heat.c
 *	  Hot-page detection: a per-page access frequency that decays with
 *	  time, kept without a shared write on every hit.
 *
 * Design.  A block's heat (BpBlockDesc.heat, 16 bits, and heat_tick, 8
 * bits; see heat.h) is a Morris counter c of sampled accesses and the
 * heat clock's tick at the last sampled access.  An access is sampled
 * when this process's countdown for the instance (in its BpLocalInstance,
 * which the hit path has at hand) runs out; the next gap is drawn
 * uniformly from 1 .. 2 x BP_HEAT_SAMPLE_MEAN - 1, so the sample is one
 * access in BP_HEAT_SAMPLE_MEAN on average and no periodic access pattern
 * can alias with it.  What a hit pays when it is not sampled is a
 * decrement and a branch; a sample mostly reuses this process's last
 * reading of the coarse monotonic clock (bp_heat_sample_tick).  A sample
 * first decays the counter by BP_HEAT_DECAY_STEPS for each tick since the
 * last one (a tick is a sixteenth of
 * hot_page_halflife and BP_HEAT_STEPS steps are a doubling, so the
 * estimate halves every half-life whether the page is touched or not:
 * the ticks a page lives through are each counted once, however often it
 * is sampled), then adds one with probability 2^(-c/BP_HEAT_STEPS).  The
 * counter then estimates n sampled accesses, decayed, as
 * (2^(c/S) - 1) / (2^(1/S) - 1) with S = BP_HEAT_STEPS.
 *
 * Why these sizes: the relative error of a Morris counter with base b is
 * about sqrt((b - 1) / 2).  An 8-bit counter (Redis's LFU) must use a
 * coarse base to reach useful counts, 2^(1/16) at best, and errs by 15%:
 * simulated on the Zipf(0.9) accuracy test (top 100 of 40,640 pages, one
 * access in 16 sampled), the top-100 overlap averaged 92% and fell below
 * 90% in 3 runs of 40.  With 16 bits and S = 128 the counter errs by 5%,
 * never saturates (2^512), and the same simulation averaged 95% with no
 * run below 91%; what error is left is mostly the sampling's.  The bytes
 * came from the descriptor: its list kind and is_old share one byte, and
 * the flush type of the last write moved into the state word.
 *
 * The 8-bit tick wraps after 256 ticks (16 half-lives).  The pool manager
 * clears, every BP_HEAT_SWEEP_TICKS, the counter of any block idle for
 * BP_HEAT_COLD_TICKS (8 half-lives: its estimate has fallen to 1/256),
 * and readers treat such a counter as 0, so no tick is read more than 255
 * ticks old.
 *
 * The rate of a page: with accesses at a steady rate r since its first
 * access T seconds ago, the decayed count is r H / ln 2 (1 - 2^(-T/H));
 * est_accesses_per_s inverts that.  last_access_ms_ago is known to the
 * tick (the middle of the tick of the last sampled access).
 *
 * Locking: none.  Each field is read and written whole; a sample racing
 * with another on the same page, or with the sweep, may lose an update or
 * pair one writer's counter with the other's tick (both recent), which a
 * statistic can afford.  Replacement does not read the heat.
 *
 * IDENTIFICATION
 *	  src/pool/heat.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <time.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/timestamp.h"

#include "bufpool_ext/base/clock.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/pool/heat.h"
#include "bufpool_ext/shared/shmem.h"

/*
 * 2^32 x 2^(-k/S) for k < S: the increment threshold at counter S j + k
 * is this >> j.  Filled on first use.
 */
static uint32 bp_heat_threshold[BP_HEAT_STEPS];
static uint64 bp_heat_rng = 0;

/* xorshift64*: this process's random numbers for sampling */
static inline uint64
bp_heat_random(void)
{
	uint64		x = bp_heat_rng;

	if (unlikely(x == 0))
	{
		int			k;

		x = ((uint64) MyProcPid << 32) ^ (uint64) GetCurrentTimestamp() ^
			UINT64CONST(0x9E3779B97F4A7C15);
		for (k = 0; k < BP_HEAT_STEPS; k++)
			bp_heat_threshold[k] = (uint32) Min(ldexp(pow(2.0, -(double) k / BP_HEAT_STEPS), 32),
												(double) PG_UINT32_MAX);
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	bp_heat_rng = x;
	return x * UINT64CONST(0x2545F4914F6CDD1D);
}

static inline int64
bp_heat_tick_ns(void)
{
	return (int64) bp_hot_page_halflife_s * 1000000000 / BP_HEAT_TICKS;
}

/* ns since the heat clock's zero */
static inline int64
bp_heat_elapsed_ns(void)
{
	int64		ns = bp_clock_coarse_ns() - BpShmem->heat_epoch_ns;

	return ns > 0 ? ns : 0;
}

/* The heat clock: ticks since the pool's shared memory was set up. */
uint64
bp_heat_now_tick(void)
{
	return (uint64) (bp_heat_elapsed_ns() / bp_heat_tick_ns());
}

/*
 * The tick a sample uses: this process's reading of the heat clock, read
 * again every BP_HEAT_CLOCK_SAMPLES samples, at each new statement, and
 * whenever another process has seen a later tick (BpShared.heat_tick_max,
 * which every reading raises).  So a sample never stamps a tick older than
 * one already stamped on some page (an age would wrap round), and one that
 * is behind the clock only puts decay off to the page's next sample,
 * which counts the ticks since this stamp.
 */
#define BP_HEAT_CLOCK_SAMPLES	8

static uint64 my_tick = 0;
static int	my_clock_left = 0;
static TimestampTz my_clock_stmt = 0;

static pg_noinline uint64
bp_heat_read_clock(TimestampTz stmt)
{
	uint64		seen = pg_atomic_read_u64(&BpShmem->heat_tick_max);

	my_tick = bp_heat_now_tick();
	my_clock_left = BP_HEAT_CLOCK_SAMPLES;
	my_clock_stmt = stmt;
	while (my_tick > seen &&
		   !pg_atomic_compare_exchange_u64(&BpShmem->heat_tick_max, &seen, my_tick))
		;
	return my_tick;
}

static inline uint64
bp_heat_sample_tick(void)
{
	TimestampTz stmt = GetCurrentStatementStartTimestamp();

	if (unlikely(--my_clock_left <= 0 || stmt != my_clock_stmt ||
				 my_tick < pg_atomic_read_u64(&BpShmem->heat_tick_max)))
		return bp_heat_read_clock(stmt);
	return my_tick;
}

/* The heat clock and the bp_now_ms() clock, read once for a view. */
void
bp_heat_clock(BpHeatClock *clk)
{
	int64		ns = bp_heat_elapsed_ns();

	clk->tick_ms = (double) bp_heat_tick_ns() / 1000000.0;
	clk->tick = (uint64) (ns / bp_heat_tick_ns());
	clk->phase_ms = (double) (ns % bp_heat_tick_ns()) / 1000000.0;
	clk->now_ms = bp_now_ms();
}

/*
 * A counter decayed to tick now; *age_out gets the ticks since its last
 * sample (modulo 256).  Idle for BP_HEAT_COLD_TICKS or more: 0.  A stamp
 * up to BP_HEAT_AHEAD_TICKS ahead of now (another process read the clock
 * a moment later and sampled the page in between) counts as age 0, not
 * as a page idle for nearly 256 ticks.
 */
static inline uint16
bp_heat_decay(uint16 heat, uint8 heat_tick, uint64 now, uint8 *age_out)
{
	uint8		age = (uint8) ((uint8) now - heat_tick);
	uint32		decay;

	if (age > 255 - BP_HEAT_AHEAD_TICKS)
		age = 0;
	*age_out = age;
	decay = (uint32) age * BP_HEAT_DECAY_STEPS;
	if (heat == 0 || age >= BP_HEAT_COLD_TICKS)
		return 0;
	return heat > decay ? (uint16) (heat - decay) : 0;
}

/*
 * A sampled access to block d of instance li: add the gap's gets to this
 * process's counters, decay, count, and draw the gap to the next sample.
 */
void
bp_heat_sample(BpLocalInstance *li, BpBlockDesc *d)
{
	uint64		r = bp_heat_random();
	uint64		now = bp_heat_sample_tick();
	volatile uint16 *heat = &d->heat;
	volatile uint8 *tick = &d->heat_tick;
	uint16		old = *heat;
	uint8		old_tick = *tick;
	uint8		age;
	uint16		c = bp_heat_decay(old, old_tick, now, &age);
	uint32		j = c / BP_HEAT_STEPS;

	li->counters->gets += li->heat_gap;
	/* next gap uniform in 1 .. 2 x mean - 1, by multiply-shift */
	li->heat_gap = li->heat_left =
		1 + (uint32) (((r & PG_UINT32_MAX) * (2 * BP_HEAT_SAMPLE_MEAN - 1)) >> 32);
	if (c < PG_UINT16_MAX && j < 32 &&
		(uint32) (r >> 32) < (bp_heat_threshold[c % BP_HEAT_STEPS] >> j))
		c++;
	if (c != old)
		*heat = c;
	/* never move a stamp back (bp_heat_decay read it as ahead: age 0) */
	if ((uint8) now != old_tick && age != 0)
		*tick = (uint8) now;
}

/*
 * What a block's heat says at clk's time; access_time is the block's first
 * access on the bp_now_ms() clock.
 */
void
bp_heat_read(uint16 heat, uint8 heat_tick, uint32 access_time, const BpHeatClock *clk,
			 BpHeatView *out)
{
	double		h = (double) bp_hot_page_halflife_s;
	double		in_pool_s;
	uint8		age;

	out->frequency = bp_heat_decay(heat, heat_tick, clk->tick, &age);
	/* the middle of the tick of the last sample, and no later than now */
	if (heat == 0 || age >= BP_HEAT_COLD_TICKS)
		out->last_access_ms = -1;
	else
		out->last_access_ms = (int64) Max((age - 0.5) * clk->tick_ms + clk->phase_ms, 0.0);
	if (out->frequency == 0)
	{
		out->est_accesses = 0;
		out->accesses_per_s = 0;
		return;
	}
	out->est_accesses = (pow(2.0, out->frequency / (double) BP_HEAT_STEPS) - 1.0) /
		(pow(2.0, 1.0 / BP_HEAT_STEPS) - 1.0) * BP_HEAT_SAMPLE_MEAN;
	in_pool_s = access_time != 0 ? (double) (uint32) (clk->now_ms - access_time) / 1000.0 : h;
	in_pool_s = Max(in_pool_s, clk->tick_ms / 1000.0);
	out->accesses_per_s = out->est_accesses * M_LN2 / (h * (1.0 - pow(2.0, -in_pool_s / h)));
}

/*
 * The sweep: clear the counter of every block idle for BP_HEAT_COLD_TICKS,
 * so that no tick wraps round to look recent.  The pool manager and page
 * cleaner 0 both call bp_heat_sweep_if_due, so that a long resize (the
 * manager's) or a paused cleaner does not hold it up; whoever claims the
 * interval first sweeps.
 */
static void
bp_heat_sweep_block(void *arg, int instance, BpBlockNo b, BpBlockDesc *d)
{
	uint64		now = *(uint64 *) arg;
	volatile uint16 *heat = &d->heat;

	if (*heat != 0 && (uint8) ((uint8) now - d->heat_tick) >= BP_HEAT_COLD_TICKS)
		*heat = 0;
}

void
bp_heat_sweep_if_due(void)
{
	uint64		now = bp_heat_now_tick();
	uint64		last = pg_atomic_read_u64(&BpShmem->heat_last_sweep);

	if (pg_atomic_read_u32(&BpShmem->pool_state) != BP_POOL_READY ||
		now < last + BP_HEAT_SWEEP_TICKS ||
		!pg_atomic_compare_exchange_u64(&BpShmem->heat_last_sweep, &last, now))
		return;
	bp_ensure_attached();
	bp_pool_visit_blocks(bp_heat_sweep_block, &now);
}

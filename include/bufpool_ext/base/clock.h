/*-------------------------------------------------------------------------
 *
 * clock.h
 *	  The coarse monotonic clock shared by the whole machine, and the
 *	  precise one for timing short operations.
 *
 * Linux's coarse monotonic clock is read from the vDSO without a system
 * call or a TSC read; its resolution (a jiffy, 1 to 4 ms) suits clocks
 * whose ticks are far longer, such as the heat clock (pool/heat.c).
 * Every process of the machine reads the same clock, so a value read in
 * one process can be stored in shared memory and compared in another.
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/base/clock.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_CLOCK_H
#define BUFPOOL_EXT_CLOCK_H

#include <time.h>

/* ns on the machine's coarse monotonic clock */
static inline int64
bp_clock_coarse_ns(void)
{
	struct timespec ts;

#ifdef CLOCK_MONOTONIC_COARSE
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return (int64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ns on the precise monotonic clock (for timing short operations) */
static inline int64
bp_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif							/* BUFPOOL_EXT_CLOCK_H */

/*-------------------------------------------------------------------------
 *
 * governor.c
 *	  The memory governor: the pool manager samples the kernel's memory
 *	  signals (src/base/memsignal.c), grades them into a level and acts on
 *	  it: gives memory back under pressure, takes it again when the
 *	  pressure is gone, never touches a page a session holds.
 *
 * Level = the worse of the use level and the stall level.  Use: the
 * working set in percent of the limit, against memory_attention_pct (50),
 * warning (75), danger (85) and emergency (95), the seeds' bands.  Stall:
 * PSI some avg10 above pressure_warning_pct (warning) or
 * pressure_danger_pct (danger), full avg10 above pressure_emergency_pct
 * (emergency); and at least warning while a PSI trigger (memsignal.c:
 * some stall above pressure_warning_pct of a 2 s window) has fired within
 * its window: the manager waits on the trigger and samples at once when it
 * fires, seconds before avg10 shows the stall.  A level rises at once; it falls only when the readings
 * are below its own band by BP_GOV_HYSTERESIS_PCT points (stall: below
 * half its threshold) for BP_GOV_DOWN_SAMPLES samples in a row, so it
 * does not flap.
 *
 * Actions (memory_governor = on; observe computes and logs only):
 *	- attention: a LOG line, and a sample every 250 ms instead of 1 s;
 *	- warning: the page cleaners flush at io_capacity_max (cleaner.c reads
 *	  mem_level); the pool does not grow: a resize or a reload asking for
 *	  more waits, with a NOTICE and its status saying why (resize.c), and
 *	  starts once the level is below warning;
 *	- entering danger (once until the level falls below it): the free
 *	  pages of the buddy allocator's regions go back to the kernel (bp_buddy_trim; free frames leave the buddy pool
 *	  at once anyway);
 *	- danger: a shrink step through the online resize: at most 10% of the
 *	  pool (at least one chunk per instance), never below min_size; the
 *	  next step after a cool-down (bp_gov_cooldown_ms: a sample while the
 *	  working set is at danger, 500 ms while the hysteresis holds the level,
 *	  3 s for PSI alone: fast down); a grow waiting for memory is cancelled
 *	  first (it fails, saying why);
 *	- emergency: a shrink straight to min_size, and allocator blocks above
 *	  emergency_alloc_limit refused with SQLSTATE 53200 (shmem.c, called
 *	  by the arena and the heap when they take a block);
 *	- back to normal for regrow_delay: a grow step of 10% toward the
 *	  configured size (slow up, fast down, as Senpai), if the governor
 *	  shrank the pool (a DBA's own bufpool.resize() is left alone).
 * A resize moves only pages it may (the online resize relocates or
 * evicts unpinned pages and fails, pool unchanged, if pins stay).
 *
 * Every level change and action is a row of bufpool.memory_governor_log
 * and a LOG line; bufpool.memory_pressure shows the last sample.  Bad
 * settings (bands out of order, min_size above the limit) or unreadable
 * signal files: a WARNING naming them, once, and observe until fixed.
 * Nothing here runs on the page hit path.
 *
 * IDENTIFICATION
 *	  src/workers/governor.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memsignal.h"
#include "bufpool_ext/base/trycall.h"
#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_ext/pool/resize.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/workers/workers.h"

#define BP_GOV_HYSTERESIS_PCT	5
#define BP_GOV_DOWN_SAMPLES		3
#define BP_GOV_COOLDOWN_USE_MS	250		/* use at danger now */
#define BP_GOV_COOLDOWN_HELD_MS	500		/* danger held by the hysteresis */
#define BP_GOV_COOLDOWN_STALL_MS 3000	/* danger from PSI avg10 only */
#define BP_GOV_SAMPLE_MS		1000
#define BP_GOV_FAST_SAMPLE_MS	250
#define BP_GOV_PSI_WINDOW_MS	2000	/* the PSI trigger's window */

/* the manager's own state between samples */
static int	down_samples = 0;
static TimestampTz last_step = 0;
static TimestampTz last_sample = 0;
static char last_warning[200] = "";
static char last_psi_why[200] = "";
static TimestampTz psi_fired_at = 0;
static int64 psi_events = 0;
static TimestampTz psi_failed_at = 0;	/* the last failed arm */
static bool trimmed = false;	/* the buddy regions, since danger began */

/* Append a row to the governor's log ring and say it in the server log. */
static void
bp_gov_log(const BpGovStatus *st, const char *action, int64 from, int64 to, const char *result)
{
	BpGovLogRow *row;

	SpinLockAcquire(&BpShmem->gov_mutex);
	row = &BpShmem->gov_log[BpShmem->gov_log_next % BP_GOV_LOG];
	memset(row, 0, sizeof(*row));
	row->id = BpShmem->gov_log_next++;
	row->at = GetCurrentTimestamp();
	row->level = st->level;
	row->limit = st->limit;
	row->working_set = st->working_set;
	row->psi_some_avg10 = st->psi_some_avg10;
	row->psi_full_avg10 = st->psi_full_avg10;
	strlcpy(row->action, action, sizeof(row->action));
	row->from_size = from;
	row->to_size = to;
	strlcpy(row->result, result, sizeof(row->result));
	SpinLockRelease(&BpShmem->gov_mutex);
	ereport(LOG,
			(errmsg("bufpool_ext memory governor: level %s, %s: %s",
					bp_mem_level_name(st->level), action, result),
			 errdetail("Working set %lld of %lld bytes (%.1f%%), PSI some %.2f%% full %.2f%% (avg10), from %s.",
					   (long long) st->working_set, (long long) st->limit,
					   st->limit > 0 ? 100.0 * st->working_set / st->limit : 0.0,
					   st->psi_some_avg10, st->psi_full_avg10, st->where)));
}

/* A WARNING once per distinct text (bad settings, unreadable files). */
static void
bp_gov_warn_once(const char *text)
{
	if (strcmp(text, last_warning) == 0)
		return;
	strlcpy(last_warning, text, sizeof(last_warning));
	ereport(WARNING,
			(errmsg("bufpool_ext memory governor observes only: %s", text)));
}

/* NULL if the settings are usable, else what is wrong with them. */
static const char *
bp_gov_check_settings(int64 limit, char *buf, size_t len)
{
	if (!(bp_memory_attention_pct < bp_memory_warning_pct &&
		  bp_memory_warning_pct < bp_memory_danger_pct &&
		  bp_memory_danger_pct < bp_memory_emergency_pct))
	{
		snprintf(buf, len, "bufpool_ext.memory_attention_pct (%d), memory_warning_pct (%d), memory_danger_pct (%d) and memory_emergency_pct (%d) must increase in that order",
				 bp_memory_attention_pct, bp_memory_warning_pct, bp_memory_danger_pct,
				 bp_memory_emergency_pct);
		return buf;
	}
	if (bp_pressure_warning_pct >= bp_pressure_danger_pct)
	{
		snprintf(buf, len, "bufpool_ext.pressure_warning_pct (%g) must be below pressure_danger_pct (%g)",
				 bp_pressure_warning_pct, bp_pressure_danger_pct);
		return buf;
	}
	if (limit > 0 && (int64) bp_min_size_mb * 1024 * 1024 >= limit)
	{
		snprintf(buf, len, "bufpool_ext.min_size (%d MB) is not below the memory limit (%lld MB)",
				 bp_min_size_mb, (long long) (limit / (1024 * 1024)));
		return buf;
	}
	return NULL;
}

/* The use level of a working set in percent, bands lowered by margin. */
static int
bp_gov_use_level(double pct, int margin)
{
	if (pct >= bp_memory_emergency_pct - margin)
		return BP_LEVEL_EMERGENCY;
	if (pct >= bp_memory_danger_pct - margin)
		return BP_LEVEL_DANGER;
	if (pct >= bp_memory_warning_pct - margin)
		return BP_LEVEL_WARNING;
	if (pct >= bp_memory_attention_pct - margin)
		return BP_LEVEL_ATTENTION;
	return BP_LEVEL_NORMAL;
}

/* The stall level of PSI readings, thresholds scaled by factor. */
static int
bp_gov_stall_level(double some, double full, double factor)
{
	if (full >= 0 && full > bp_pressure_emergency_pct * factor)
		return BP_LEVEL_EMERGENCY;
	if (some >= 0 && some > bp_pressure_danger_pct * factor)
		return BP_LEVEL_DANGER;
	if (some >= 0 && some > bp_pressure_warning_pct * factor)
		return BP_LEVEL_WARNING;
	return BP_LEVEL_NORMAL;
}

/* The pool size one step of pct percent from cur toward target, in bytes. */
static int64
bp_gov_step(int64 cur, int64 target, int pct)
{
	int64		unit = (int64) BpShmem->chunk_size * BpShmem->n_instances;
	int64		step = Max(cur * pct / 100 / unit * unit, unit);

	if (target < cur)
		return Max(cur - step, target);
	return Min(cur + step, target);
}

/*
 * The pause after a danger step before the next: one sample while the
 * working set itself is at danger (the cgroup shows a step's effect at
 * once: its chunks are unlinked when it completes); 500 ms while the
 * level is held at danger by the hysteresis; 3 s when only PSI avg10 says
 * danger (a 10 s average needs time to show a step's effect).
 */
static long
bp_gov_cooldown_ms(const BpGovStatus *st)
{
	if (st->use_level >= BP_LEVEL_DANGER)
		return BP_GOV_COOLDOWN_USE_MS;
	if (st->stall_level >= BP_LEVEL_DANGER)
		return BP_GOV_COOLDOWN_STALL_MS;
	return BP_GOV_COOLDOWN_HELD_MS;
}

/* bp_resize_start for bp_try_call */
typedef struct BpGovResize
{
	const char *size_txt;
	int64		id;
} BpGovResize;

static void
bp_gov_resize_step(void *arg)
{
	BpGovResize *r = (BpGovResize *) arg;

	r->id = bp_resize_start(r->size_txt, "governor");
}

/*
 * Ask the online resize for to bytes; the result for the log.  A shrink
 * marks the pool as the governor's to grow back; a grow that reaches the
 * configured size clears the mark.
 */
static void
bp_gov_resize(BpGovStatus *st, const char *action, int64 cur, int64 to)
{
	char		txt[64];
	char		message[200];
	char		result[200];
	BpGovResize r = {txt, 0};

	snprintf(txt, sizeof(txt), "%lld", (long long) to);
	if (bp_try_call(bp_gov_resize_step, &r, message, sizeof(message), NULL, 0))
	{
		snprintf(result, sizeof(result), "resize %lld requested", (long long) r.id);
		st->shrunk = to < cur || to < BpShmem->config_size_applied;
		SpinLockAcquire(&BpShmem->gov_mutex);
		BpShmem->gov.shrunk = st->shrunk;
		SpinLockRelease(&BpShmem->gov_mutex);
	}
	else
		snprintf(result, sizeof(result), "not started: %s", message);
	last_step = GetCurrentTimestamp();
	bp_gov_log(st, action, cur, to, result);
}

/*
 * The descriptor the pool manager waits on besides its latch: readable
 * when the PSI trigger fires (memsignal.c), or -1 without one.  Arms the
 * trigger for pressure_warning_pct (again, if that changed); a LOG line
 * once says why there is none.
 */
int
bp_governor_wait_fd(void)
{
	const char *why;
	int			fd;

	if (bp_memory_governor == BP_GOVERNOR_OFF)
	{
		bp_psi_trigger_disarm();
		return -1;
	}
	/* after a failure, try again once a minute */
	if (psi_failed_at != 0 &&
		!TimestampDifferenceExceeds(psi_failed_at, GetCurrentTimestamp(), 60000))
		return -1;
	fd = bp_psi_trigger_arm(bp_pressure_warning_pct, &why);
	if (fd >= 0)
	{
		psi_failed_at = 0;
		last_psi_why[0] = '\0';
		return fd;
	}
	psi_failed_at = GetCurrentTimestamp();
	if (strcmp(why, last_psi_why) != 0)
	{
		strlcpy(last_psi_why, why, sizeof(last_psi_why));
		ereport(LOG,
				(errmsg("bufpool_ext memory governor: no PSI trigger: %s", why),
				 errdetail("The governor reads PSI avg10 at each sample instead, and tries again every minute.")));
	}
	return -1;
}

/* The PSI trigger fired: count it and sample at once. */
void
bp_governor_psi_fired(void)
{
	bp_psi_trigger_drain();
	psi_fired_at = GetCurrentTimestamp();
	psi_events++;
	last_sample = 0;
}

/* Milliseconds until the governor wants its next sample. */
long
bp_governor_next_ms(void)
{
	long		period;

	if (bp_memory_governor == BP_GOVERNOR_OFF)
		return 60000;
	period = pg_atomic_read_u32(&BpShmem->mem_level) >= BP_LEVEL_ATTENTION ?
		BP_GOV_FAST_SAMPLE_MS : BP_GOV_SAMPLE_MS;
	return Max(period - TimestampDifferenceMilliseconds(last_sample, GetCurrentTimestamp()), 1);
}

/*
 * One sample, if one is due: read the signals, grade them, act.  Called
 * by the pool manager's loop (never while a resize runs in this process).
 */
void
bp_governor_sample(void)
{
	BpGovStatus st;
	BpMemSignals sig;
	char		why[200];
	const char *bad;
	int			old_level;
	bool		psi_recent;
	int			up;
	int			down;
	double		pct;
	TimestampTz now = GetCurrentTimestamp();
	int64		cur;
	int64		configured;
	int64		min_bytes = (int64) bp_min_size_mb * 1024 * 1024;

	if (bp_memory_governor == BP_GOVERNOR_OFF)
	{
		/* no sampling; the allocators and the resize see a normal level */
		pg_atomic_write_u32(&BpShmem->mem_level, BP_LEVEL_NORMAL);
		SpinLockAcquire(&BpShmem->gov_mutex);
		BpShmem->gov.mode = BP_GOVERNOR_OFF;
		SpinLockRelease(&BpShmem->gov_mutex);
		return;
	}
	if (last_sample != 0 && bp_governor_next_ms() > 1)
		return;
	last_sample = now;

	SpinLockAcquire(&BpShmem->gov_mutex);
	st = BpShmem->gov;
	SpinLockRelease(&BpShmem->gov_mutex);
	old_level = st.level;
	st.mode = bp_memory_governor;
	st.note[0] = '\0';

	if (!bp_memsignal_read(&sig))
	{
		bp_gov_warn_once(sig.error);
		/* no reading, no action: nothing stays refused on an old level */
		pg_atomic_write_u32(&BpShmem->mem_level, BP_LEVEL_NORMAL);
		st.mode = BP_GOVERNOR_OBSERVE;
		strlcpy(st.note, sig.error, sizeof(st.note));
		st.sampled_at = now;
		SpinLockAcquire(&BpShmem->gov_mutex);
		BpShmem->gov = st;
		SpinLockRelease(&BpShmem->gov_mutex);
		return;
	}
	bad = bp_gov_check_settings(sig.limit, why, sizeof(why));
	if (bad != NULL)
	{
		bp_gov_warn_once(bad);
		st.mode = BP_GOVERNOR_OBSERVE;
		strlcpy(st.note, bad, sizeof(st.note));
	}
	else
		last_warning[0] = '\0';

	st.source = sig.source;
	st.limit = sig.limit;
	st.usage = sig.usage;
	st.working_set = sig.working_set;
	st.psi_some_avg10 = sig.psi_some_avg10;
	st.psi_full_avg10 = sig.psi_full_avg10;
	strlcpy(st.where, sig.where, sizeof(st.where));
	if (bp_psi_trigger_desc()[0])
		strlcpy(st.psi_trigger, bp_psi_trigger_desc(), sizeof(st.psi_trigger));
	else
		snprintf(st.psi_trigger, sizeof(st.psi_trigger), "none: %s", last_psi_why);
	st.psi_events = psi_events;
	st.psi_event_at = psi_fired_at;
	st.sampled_at = now;

	pct = sig.limit > 0 ? 100.0 * sig.working_set / sig.limit : 0;
	st.use_level = bp_gov_use_level(pct, 0);
	st.stall_level = bp_gov_stall_level(sig.psi_some_avg10, sig.psi_full_avg10, 1.0);
	/*
	 * A trigger that fired within its window is a stall now: warning.  A
	 * test's injected readings replace it too.
	 */
	psi_recent = sig.source != BP_MEMSRC_INJECTED && psi_fired_at != 0 &&
		!TimestampDifferenceExceeds(psi_fired_at, now, BP_GOV_PSI_WINDOW_MS);
	if (psi_recent)
		st.stall_level = Max(st.stall_level, BP_LEVEL_WARNING);
	up = Max(st.use_level, st.stall_level);
	/* going down: below the band by the hysteresis, several samples running */
	down = Max(bp_gov_use_level(pct, BP_GOV_HYSTERESIS_PCT),
			   Max(bp_gov_stall_level(sig.psi_some_avg10, sig.psi_full_avg10, 0.5),
				   psi_recent ? BP_LEVEL_WARNING : BP_LEVEL_NORMAL));
	if (up > st.level)
	{
		st.level = up;
		down_samples = 0;
	}
	else if (down < st.level)
	{
		if (++down_samples >= BP_GOV_DOWN_SAMPLES)
		{
			st.level = Max(down, up);
			down_samples = 0;
		}
	}
	else
		down_samples = 0;
	if (st.level != old_level || st.level_since == 0)
		st.level_since = now;
	pg_atomic_write_u32(&BpShmem->mem_level,
						st.mode == BP_GOVERNOR_ON ? st.level : BP_LEVEL_NORMAL);
	SpinLockAcquire(&BpShmem->gov_mutex);
	BpShmem->gov = st;
	SpinLockRelease(&BpShmem->gov_mutex);

	if (st.level != old_level)
	{
		char		text[200];

		snprintf(text, sizeof(text), "from %s%s", bp_mem_level_name(old_level),
				 st.mode == BP_GOVERNOR_ON ? "" : " (observe: no action)");
		bp_gov_log(&st, "level", 0, 0, text);
	}
	if (st.mode != BP_GOVERNOR_ON)
		return;

	/* actions: never while a resize is pending or running */
	cur = bp_resize_current_size();
	configured = BpShmem->config_size_applied;
	if (st.level < BP_LEVEL_DANGER)
		trimmed = false;
	else if (!trimmed)
	{
		char		result[120];

		/* at danger: the free pages of the buddy regions go first, once */
		snprintf(result, sizeof(result), "%lld bytes of free buddy memory handed back",
				 (long long) bp_buddy_trim());
		bp_gov_log(&st, "buddy trim", 0, 0, result);
		trimmed = true;
	}
	if (st.level >= BP_LEVEL_DANGER && cur > min_bytes)
	{
		char		why[120];

		/* a grow waiting for memory gives way to the shrink */
		snprintf(why, sizeof(why), "cancelled: the memory governor shrinks the pool at level %s",
				 bp_mem_level_name(st.level));
		if (bp_resize_cancel_held(why))
			bp_gov_log(&st, "grow cancelled", 0, 0, why);
	}
	if (bp_resize_busy())
		return;
	if (st.level == BP_LEVEL_EMERGENCY && cur > min_bytes)
		bp_gov_resize(&st, "shrink to min_size", cur, bp_gov_step(cur, min_bytes, 100));
	else if (st.level == BP_LEVEL_DANGER && cur > min_bytes &&
			 TimestampDifferenceExceeds(last_step, now, bp_gov_cooldown_ms(&st)))
		bp_gov_resize(&st, "shrink step", cur, bp_gov_step(cur, min_bytes, 10));
	else if (st.level == BP_LEVEL_NORMAL && st.shrunk && cur < configured &&
			 TimestampDifferenceExceeds(st.level_since, now, bp_regrow_delay_s * 1000) &&
			 TimestampDifferenceExceeds(last_step, now, bp_regrow_delay_s * 1000))
		bp_gov_resize(&st, "grow step", cur, bp_gov_step(cur, configured, 10));
}

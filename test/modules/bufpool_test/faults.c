/*-------------------------------------------------------------------------
 *
 * faults.c
 *	  The test module's side of bufpool_ext's fault points: SQL functions
 *	  that attach this module's callbacks to the library's points, and
 *	  the callbacks.
 *
 * bufpool_test.fault_attach(point, action, arg, pid, persist) attaches
 * the callback of an action to a point (src/base/fault.c has the points):
 *
 *	  error		ERROR at the point
 *	  panic		PANIC at the point (a crash of the whole cluster)
 *	  eio		fire with errno EIO: a data-write or redo-write fails
 *	  enospc	fire with errno ENOSPC
 *	  skip		fire: a page-cleaner-pass is skipped
 *	  wait		take and release the advisory lock arg (bigint) first:
 *				parks the process, visibly (wait event Lock), while
 *				another session holds the key
 *	  sleep		sleep arg milliseconds
 *	  signals	memory-signals only: the governor reads arg's figures
 *				("limit=BYTES ws=BYTES some=PCT full=PCT") instead of
 *				the kernel's
 *	  torn		page-write-in-place only: at the arg-th hit (1 if
 *				empty) write the first half of the page in place, then
 *				PANIC, so the page on disk is half new, half old
 *	  cut		redo-group only: keep the group's first arg records (half
 *				if empty; arg "min=N": half, and only a group of at least
 *				N records; "pages=N": half, and only a group changing at
 *				least N pages): bufpool_ext writes them durably and PANICs, a
 *				crash in the middle of a mini-transaction's commit
 *
 * pid 0 (the default) means every process, the background workers too;
 * a session that attaches for its own pid has its attachments detached
 * when it exits.  persist (pid 0 only) also saves the attachment in
 * $PGDATA/bufpool_test_faults.conf; when this module is in
 * shared_preload_libraries (after bufpool_ext) it attaches the saved ones
 * at every start and crash-restart, before the pool manager's recovery
 * runs: that is how a test makes recovery itself fail.  fault_detach
 * removes them from the file too.
 *
 * IDENTIFICATION
 *	  test/modules/bufpool_test/faults.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/base/memsignal.h"
#include "bufpool_ext/base/page.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_test.h"

#define BPT_LIBRARY			"$libdir/bufpool_test"
#define BPT_FAULTS_FILE		"bufpool_test_faults.conf"

PG_FUNCTION_INFO_V1(bpt_fault_attach);
PG_FUNCTION_INFO_V1(bpt_fault_detach);
PG_FUNCTION_INFO_V1(bpt_faults);
PG_FUNCTION_INFO_V1(bpt_fault_points);

extern PGDLLEXPORT bool bpt_fault_error(const BpFaultHit *hit);
extern PGDLLEXPORT bool bpt_fault_panic(const BpFaultHit *hit);
extern PGDLLEXPORT bool bpt_fault_eio(const BpFaultHit *hit);
extern PGDLLEXPORT bool bpt_fault_enospc(const BpFaultHit *hit);
extern PGDLLEXPORT bool bpt_fault_skip(const BpFaultHit *hit);
extern PGDLLEXPORT bool bpt_fault_wait(const BpFaultHit *hit);
extern PGDLLEXPORT bool bpt_fault_sleep(const BpFaultHit *hit);
extern PGDLLEXPORT bool bpt_fault_torn(const BpFaultHit *hit);
extern PGDLLEXPORT bool bpt_fault_signals(const BpFaultHit *hit);
extern PGDLLEXPORT bool bpt_fault_cut(const BpFaultHit *hit);

/* action name -> callback name */
static const char *const bpt_actions[][2] = {
	{"error", "bpt_fault_error"},
	{"panic", "bpt_fault_panic"},
	{"eio", "bpt_fault_eio"},
	{"enospc", "bpt_fault_enospc"},
	{"skip", "bpt_fault_skip"},
	{"wait", "bpt_fault_wait"},
	{"sleep", "bpt_fault_sleep"},
	{"torn", "bpt_fault_torn"},
	{"signals", "bpt_fault_signals"},
	{"cut", "bpt_fault_cut"},
};

static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static bool exit_detach_registered = false;

/* ---------------------------------------------------------------- callbacks */

bool
bpt_fault_error(const BpFaultHit *hit)
{
	ereport(ERROR,
			(errcode(ERRCODE_IO_ERROR),
			 errmsg("fault point %s: injected error", hit->name)));
	return true;
}

bool
bpt_fault_panic(const BpFaultHit *hit)
{
	ereport(PANIC,
			(errmsg("fault point %s: injected crash", hit->name)));
	return true;
}

bool
bpt_fault_eio(const BpFaultHit *hit)
{
	errno = EIO;
	return true;
}

bool
bpt_fault_enospc(const BpFaultHit *hit)
{
	errno = ENOSPC;
	return true;
}

bool
bpt_fault_skip(const BpFaultHit *hit)
{
	return true;
}

bool
bpt_fault_wait(const BpFaultHit *hit)
{
	int64		key = strtoll(hit->arg, NULL, 10);

	DirectFunctionCall1(pg_advisory_lock_int8, Int64GetDatum(key));
	DirectFunctionCall1(pg_advisory_unlock_int8, Int64GetDatum(key));
	return false;
}

/*
 * memory-signals only: replace the memory governor's readings with those
 * of arg, "limit=BYTES ws=BYTES some=PCT full=PCT" (any subset; usage is
 * set to the working set).
 */
bool
bpt_fault_signals(const BpFaultHit *hit)
{
	BpMemSignals *s = (BpMemSignals *) hit->ctx;
	const char *p;

	if (s == NULL)
		return false;
	if ((p = strstr(hit->arg, "limit=")) != NULL)
		s->limit = strtoll(p + 6, NULL, 10);
	if ((p = strstr(hit->arg, "ws=")) != NULL)
		s->usage = s->working_set = strtoll(p + 3, NULL, 10);
	if ((p = strstr(hit->arg, "some=")) != NULL)
		s->psi_some_avg10 = strtod(p + 5, NULL);
	if ((p = strstr(hit->arg, "full=")) != NULL)
		s->psi_full_avg10 = strtod(p + 5, NULL);
	strlcpy(s->where, "injected by bufpool_test", sizeof(s->where));
	return true;
}

/*
 * sleep: the whole time asked, even if a signal cuts pg_usleep short (a
 * latch wake-up or a reload would otherwise let a parked dump finish:
 * seen once in CI, in TAP 024).
 */
bool
bpt_fault_sleep(const BpFaultHit *hit)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  strtol(hit->arg, NULL, 10));
	long		left;

	while ((left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end)) > 0)
		pg_usleep(left * 1000L);
	return false;
}

/*
 * cut (redo-group only): keep the first arg records of the group (half of
 * them without an arg), and let bufpool_ext write them and crash.
 */
bool
bpt_fault_cut(const BpFaultHit *hit)
{
	BpFaultGroup *g = (BpFaultGroup *) hit->ctx;

	if (strcmp(hit->name, "redo-group") != 0 || g == NULL)
		elog(ERROR, "bufpool_test: action cut needs the point redo-group");
	if (strncmp(hit->arg, "min=", 4) == 0)
	{
		/* only a group of at least that many records (a split), cut in half */
		if (g->n < atoi(hit->arg + 4))
			return false;
		g->keep = g->n / 2;
	}
	else if (strncmp(hit->arg, "pages=", 6) == 0)
	{
		if (g->pages < atoi(hit->arg + 6))
			return false;
		g->keep = g->n / 2;
	}
	else
		g->keep = hit->arg[0] ? atoi(hit->arg) : g->n / 2;
	g->keep = Max(1, Min(g->keep, g->n - 1));
	return true;
}

bool
bpt_fault_torn(const BpFaultHit *hit)
{
	const BpFaultPage *fp = (const BpFaultPage *) hit->ctx;
	long		nth = hit->arg[0] ? strtol(hit->arg, NULL, 10) : 1;

	if (strcmp(hit->name, "page-write-in-place") != 0 || fp == NULL || fp->page == NULL)
		elog(ERROR, "bufpool_test: action torn needs the point page-write-in-place");
	if ((long) hit->hits != nth)
		return false;
	(void) bp_space_write_prepared(fp->space_id, fp->page_no, fp->page, BpPageSize / 2);
	ereport(PANIC,
			(errmsg("fault point %s: wrote only the first %d bytes of page %u of bufpool space %u",
					hit->name, BpPageSize / 2, fp->page_no, fp->space_id)));
	return true;
}

/* ---------------------------------------------------------------- the saved faults */

/* Rewrite the file with the saved lines except those of point (NULL: all). */
static void
bpt_faults_file_remove(const char *point, const char *add_line)
{
	FILE	   *in = AllocateFile(BPT_FAULTS_FILE, "r");
	StringInfoData keep;
	char		line[1024];
	FILE	   *out;

	initStringInfo(&keep);
	if (in != NULL)
	{
		while (fgets(line, sizeof(line), in) != NULL)
		{
			size_t		n = strcspn(line, "\t");

			if (point == NULL ||
				(strlen(point) == n && strncmp(line, point, n) == 0))
				continue;
			appendStringInfoString(&keep, line);
		}
		FreeFile(in);
	}
	if (add_line)
		appendStringInfoString(&keep, add_line);
	if (keep.len == 0)
	{
		if (unlink(BPT_FAULTS_FILE) < 0 && errno != ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not remove file \"%s\": %m", BPT_FAULTS_FILE)));
		return;
	}
	out = AllocateFile(BPT_FAULTS_FILE ".tmp", "w");
	if (out == NULL || fwrite(keep.data, 1, keep.len, out) != (size_t) keep.len ||
		FreeFile(out) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", BPT_FAULTS_FILE ".tmp")));
	durable_rename(BPT_FAULTS_FILE ".tmp", BPT_FAULTS_FILE, ERROR);
}

static const char *
bpt_action_function(const char *action)
{
	int			i;

	for (i = 0; i < lengthof(bpt_actions); i++)
		if (strcmp(bpt_actions[i][0], action) == 0)
			return bpt_actions[i][1];
	return NULL;
}

/* After bufpool_ext has set up its shared memory: attach the saved faults. */
static void
bpt_shmem_startup(void)
{
	FILE	   *in;
	char		line[1024];

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	in = AllocateFile(BPT_FAULTS_FILE, "r");
	if (in == NULL)
		return;
	while (fgets(line, sizeof(line), in) != NULL)
	{
		char	   *point = strtok(line, "\t\n");
		char	   *action = strtok(NULL, "\t\n");
		char	   *arg = strtok(NULL, "\n");
		const char *function = action ? bpt_action_function(action) : NULL;

		if (point == NULL || function == NULL)
			continue;
		bp_fault_attach(point, BPT_LIBRARY, function, arg ? arg : "", 0);
		elog(LOG, "bufpool_test: attached saved fault %s at point %s", action, point);
	}
	FreeFile(in);
}

void
bpt_faults_preload(void)
{
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = bpt_shmem_startup;
}

/* ---------------------------------------------------------------- SQL */

static void
bpt_detach_mine(int code, Datum arg)
{
	(void) bp_fault_detach(NULL, MyProcPid);
}

/*
 * bufpool_test.fault_attach(point text, action text, arg text default '',
 *		pid int default 0, persist boolean default false)
 */
Datum
bpt_fault_attach(PG_FUNCTION_ARGS)
{
	const char *fname = "fault_attach";
	static const char *const names[] = {"point", "action", "arg", "pid", "persist"};
	char	   *point;
	char	   *action;
	char	   *arg;
	int32		pid;
	bool		persist;
	const char *function;
	int			i;

	bpt_require_superuser(fname);
	for (i = 0; i < lengthof(names); i++)
		bpt_not_null(fcinfo, i, fname, names[i]);
	point = text_to_cstring(PG_GETARG_TEXT_PP(0));
	action = text_to_cstring(PG_GETARG_TEXT_PP(1));
	arg = text_to_cstring(PG_GETARG_TEXT_PP(2));
	pid = PG_GETARG_INT32(3);
	persist = PG_GETARG_BOOL(4);
	bpt_check_loaded();

	function = bpt_action_function(action);
	if (function == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid action for bufpool_test.fault_attach: \"%s\"", action),
				 errdetail("Valid values: error, panic, eio, enospc, skip, wait, sleep, torn, signals, cut.")));
	if (pid < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pid for bufpool_test.fault_attach: %d", pid),
				 errdetail("Give 0 for every process, or a process's pid.")));
	if (persist && pid != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a fault attached for pid %d cannot persist", pid),
				 errdetail("Only faults of every process (pid 0) are attached again at a restart.")));
	if (strchr(arg, '\n') || strchr(arg, '\t'))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid arg for bufpool_test.fault_attach: it holds a tab or a newline")));

	bp_fault_attach(point, BPT_LIBRARY, function, arg, pid);
	if (pid == MyProcPid && !exit_detach_registered)
	{
		before_shmem_exit(bpt_detach_mine, 0);
		exit_detach_registered = true;
	}
	if (persist)
		bpt_faults_file_remove(point, psprintf("%s\t%s\t%s\n", point, action, arg));
	PG_RETURN_VOID();
}

/*
 * bufpool_test.fault_detach(point text default null, pid int default null)
 *	  returns int: the attachments of point (null: every point) for pid
 *	  (null: any) go, and the saved ones of point with them.
 */
Datum
bpt_fault_detach(PG_FUNCTION_ARGS)
{
	char	   *point = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			pid = PG_ARGISNULL(1) ? -1 : PG_GETARG_INT32(1);
	int			n;

	bpt_require_superuser("fault_detach");
	bpt_check_loaded();
	n = bp_fault_detach(point, pid);
	if (pid <= 0)
		bpt_faults_file_remove(point, NULL);
	PG_RETURN_INT32(n);
}

/* bufpool_test.faults: (point, pid, action, arg, hits) of each attachment */
Datum
bpt_faults(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BpFaultEntry e[BP_FAULT_MAX];
	int			n;
	int			i;

	bpt_check_loaded();
	InitMaterializedSRF(fcinfo, 0);
	n = bp_fault_list(e);
	for (i = 0; i < n; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {0};
		const char *action = e[i].function;
		int			k;

		for (k = 0; k < lengthof(bpt_actions); k++)
			if (strcmp(bpt_actions[k][1], e[i].function) == 0)
				action = bpt_actions[k][0];
		values[0] = CStringGetTextDatum(e[i].name);
		values[1] = Int32GetDatum(e[i].pid);
		values[2] = CStringGetTextDatum(action);
		values[3] = CStringGetTextDatum(e[i].arg);
		values[4] = Int64GetDatum((int64) e[i].hits);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* bufpool_test.fault_points: (point, description) of every point */
Datum
bpt_fault_points(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < bp_fault_n_points; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {0};

		values[0] = CStringGetTextDatum(bp_fault_points[i].name);
		values[1] = CStringGetTextDatum(bp_fault_points[i].description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

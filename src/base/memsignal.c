/*-------------------------------------------------------------------------
 *
 * memsignal.c
 *	  The kernel's memory signals, as the memory governor reads them: the
 *	  limit, the use and the working set of the server's memory cgroup
 *	  (or of the machine), and the memory pressure stall information.
 *
 * Where they come from, found once per process from /proc/self/cgroup and
 * /proc/self/mountinfo:
 *
 *	- cgroup v2 with the memory controller: memory.max, memory.current,
 *	  memory.stat's inactive_file, memory.pressure;
 *	- cgroup v1 memory: memory.limit_in_bytes, memory.usage_in_bytes,
 *	  memory.stat's total_inactive_file (PSI then system-wide);
 *	- neither, or a cgroup without a limit: /proc/meminfo (MemTotal, and
 *	  MemTotal - MemAvailable as the working set).
 *
 * The working set is use minus inactive file cache, as kubelet computes
 * it: the part the kernel cannot drop without writing or swapping.  PSI
 * comes from the cgroup's memory.pressure (v2) or /proc/pressure/memory;
 * "some avg10" and "full avg10" are the percentages of the last 10 s in
 * which some or all tasks stalled on memory.  bufpool_ext.memory_limit
 * overrides the limit.
 *
 * PSI trigger.  avg10 lags a stall by seconds, so where the kernel lets
 * us, a trigger is armed on the same PSI file (bp_psi_trigger_arm):
 * "some <threshold> 2000000", the threshold pressure_warning_pct of the
 * 2 s window (an unprivileged process may only use windows of whole 2 s).
 * The kernel then reports a stall past it within the window as POLLPRI on
 * the file.  PostgreSQL's wait sets poll for input, not POLLPRI, so the
 * trigger's file sits in an epoll set of its own whose descriptor, which
 * becomes readable when the trigger fires, is what the pool manager
 * waits on.  Both descriptors count against fd.c's external ones.  A test replaces every reading through the fault
 * point "memory-signals" (the test module's action "signals").
 *
 * IDENTIFICATION
 *	  src/base/memsignal.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "storage/fd.h"

#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memsignal.h"

/* a cgroup v1 limit this large means "no limit" (PAGE_COUNTER_MAX) */
#define BP_CGROUP_UNLIMITED		((int64) 1 << 60)

typedef struct BpMemPaths
{
	bool		found;
	int			source;			/* BpMemSource */
	char		dir[MAXPGPATH]; /* the cgroup's directory, if any */
	char		psi[MAXPGPATH]; /* the PSI file, or "" */
} BpMemPaths;

static BpMemPaths paths;

static const char *const source_names[] = {"none", "cgroup v2", "cgroup v1", "meminfo", "injected"};

static const char *const level_names[] = {"normal", "attention", "warning", "danger", "emergency"};

const char *
bp_mem_level_name(int level)
{
	return level >= 0 && level < (int) lengthof(level_names) ? level_names[level] : "";
}

const char *
bp_memsignal_source_name(int source)
{
	return source >= 0 && source < (int) lengthof(source_names) ? source_names[source] : "";
}

/* Read a small file into buf; false if it cannot be read. */
static bool
bp_read_small(const char *path, char *buf, size_t len)
{
	FILE	   *f = fopen(path, "r");
	size_t		n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n > 0;
}

/* The number in file dir/name ("max" is -1); false if unreadable. */
bool
bp_read_number(const char *dir, const char *name, int64 *out)
{
	char		path[MAXPGPATH];
	char		buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!bp_read_small(path, buf, sizeof(buf)))
		return false;
	if (strncmp(buf, "max", 3) == 0)
		*out = -1;
	else
		*out = strtoll(buf, NULL, 10);
	return true;
}

/* The value of "key value" line key in file path (x multiplier); false if absent. */
bool
bp_read_keyed(const char *path, const char *key, int64 multiplier, int64 *out)
{
	char		buf[8192];
	size_t		klen = strlen(key);
	char	   *line;

	if (!bp_read_small(path, buf, sizeof(buf)))
		return false;
	for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
	{
		if (strncmp(line, key, klen) == 0 && (line[klen] == ' ' || line[klen] == ':'))
		{
			char	   *p = line + klen + 1;

			while (*p == ' ')
				p++;
			*out = strtoll(p, NULL, 10) * multiplier;
			return true;
		}
	}
	return false;
}

/*
 * Find the mount point of the cgroup hierarchy of type fstype (with
 * option opt for v1) in /proc/self/mountinfo.
 */
static bool
bp_find_mount(const char *fstype, const char *opt, char *out, size_t len,
			  char *root, size_t root_len)
{
	FILE	   *f = fopen("/proc/self/mountinfo", "r");
	char		line[1024];
	bool		found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f))
	{
		/* id parent maj:min root mountpoint options ... - fstype source superoptions */
		char	   *sep = strstr(line, " - ");
		char		mnt[MAXPGPATH];
		char		mroot[MAXPGPATH];
		char		type[64];
		char		super[512];

		if (sep == NULL || sscanf(line, "%*s %*s %*s %1023s %1023s", mroot, mnt) != 2)
			continue;
		if (sscanf(sep + 3, "%63s %*s %511s", type, super) < 2)
			continue;
		if (strcmp(type, fstype) != 0)
			continue;
		if (opt != NULL && strstr(super, opt) == NULL)
			continue;
		strlcpy(out, mnt, len);
		strlcpy(root, mroot, root_len);
		found = true;
	}
	fclose(f);
	return found;
}

/*
 * The directory of cgroup path cg (as /proc/self/cgroup gives it) under a
 * hierarchy mounted at mnt whose root is root: a container may mount only
 * its own part of the hierarchy, whose root then prefixes cg.
 */
static void
bp_cgroup_dir(const char *mnt, const char *root, const char *cg, char *out, size_t len)
{
	size_t		rlen = strlen(root);

	if (strcmp(root, "/") != 0 && strncmp(cg, root, rlen) == 0)
		cg += rlen;
	snprintf(out, len, "%s%s", mnt, cg);
}

/* Find where this process's memory signals are (once). */
static void
bp_memsignal_find(void)
{
	FILE	   *f;
	char		line[1024];
	char		v2_path[MAXPGPATH] = "";
	char		v1_path[MAXPGPATH] = "";
	char		mnt[MAXPGPATH];
	char		root[MAXPGPATH];
	char		dir[MAXPGPATH];
	char		probe[MAXPGPATH];

	memset(&paths, 0, sizeof(paths));
	paths.found = true;
	paths.source = BP_MEMSRC_MEMINFO;
	f = fopen("/proc/self/cgroup", "r");
	if (f != NULL)
	{
		while (fgets(line, sizeof(line), f))
		{
			char	   *c1 = strchr(line, ':');
			char	   *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

			if (c2 == NULL)
				continue;
			line[strcspn(line, "\n")] = '\0';
			if (strncmp(line, "0::", 3) == 0)
				strlcpy(v2_path, c2 + 1, sizeof(v2_path));
			else
			{
				*c2 = '\0';
				if (strstr(c1 + 1, "memory") != NULL)
					strlcpy(v1_path, c2 + 1, sizeof(v1_path));
			}
		}
		fclose(f);
	}
	if (v2_path[0] && bp_find_mount("cgroup2", NULL, mnt, sizeof(mnt), root, sizeof(root)))
	{
		bp_cgroup_dir(mnt, root, v2_path, dir, sizeof(dir));
		snprintf(probe, sizeof(probe), "%s/memory.max", dir);
		if (access(probe, R_OK) == 0)
		{
			strlcpy(paths.dir, dir, sizeof(paths.dir));
			paths.source = BP_MEMSRC_CGROUP2;
			snprintf(paths.psi, sizeof(paths.psi), "%s/memory.pressure", paths.dir);
			if (access(paths.psi, R_OK) != 0)
				paths.psi[0] = '\0';
		}
	}
	if (paths.source == BP_MEMSRC_MEMINFO && v1_path[0] &&
		bp_find_mount("cgroup", "memory", mnt, sizeof(mnt), root, sizeof(root)))
	{
		bp_cgroup_dir(mnt, root, v1_path, dir, sizeof(dir));
		snprintf(probe, sizeof(probe), "%s/memory.limit_in_bytes", dir);
		if (access(probe, R_OK) == 0)
		{
			strlcpy(paths.dir, dir, sizeof(paths.dir));
			paths.source = BP_MEMSRC_CGROUP1;
		}
	}
	if (paths.psi[0] == '\0' && access("/proc/pressure/memory", R_OK) == 0)
		strlcpy(paths.psi, "/proc/pressure/memory", sizeof(paths.psi));
}

/* some/full avg10 of a PSI file; false if unreadable. */
static bool
bp_read_psi(const char *path, double *some, double *full)
{
	char		buf[512];
	char	   *p;

	if (!bp_read_small(path, buf, sizeof(buf)))
		return false;
	p = strstr(buf, "some avg10=");
	*some = p ? strtod(p + 11, NULL) : -1;
	p = strstr(buf, "full avg10=");
	*full = p ? strtod(p + 11, NULL) : -1;
	return *some >= 0;
}

/* The machine's figures from /proc/meminfo. */
static bool
bp_read_meminfo(BpMemSignals *s)
{
	int64		total;
	int64		avail;

	if (!bp_read_keyed("/proc/meminfo", "MemTotal", 1024, &total) ||
		!bp_read_keyed("/proc/meminfo", "MemAvailable", 1024, &avail))
		return false;
	s->limit = total;
	s->usage = total - avail;
	s->working_set = total - avail;
	return true;
}

#define BP_PSI_WINDOW_US	2000000

static int	psi_fd = -1;		/* the armed trigger's file */
static int	psi_epoll = -1;		/* an epoll set holding it */
static double psi_armed_pct = -1;
static char psi_desc[MAXPGPATH + 64];
static uint32 psi_generation = 0;	/* bumped by each arm and disarm */

/* Close the trigger, if one is armed. */
void
bp_psi_trigger_disarm(void)
{
	if (psi_epoll >= 0)
	{
		close(psi_epoll);
		ReleaseExternalFD();
	}
	if (psi_fd >= 0)
	{
		close(psi_fd);
		ReleaseExternalFD();
	}
	if (psi_fd >= 0 || psi_epoll >= 0)
		psi_generation++;
	psi_fd = psi_epoll = -1;
	psi_armed_pct = -1;
	psi_desc[0] = '\0';
}

/*
 * Changes whenever the trigger's descriptor does (a new one may reuse the
 * old number, so a wait set must be rebuilt on this, not on the number).
 */
uint32
bp_psi_trigger_generation(void)
{
	return psi_generation;
}

/*
 * Arm a PSI trigger for some-stall above pct percent of a 2 s window (or
 * keep the one armed for the same pct).  Returns a descriptor that turns
 * readable when it fires, or -1 with *why saying why there is none.
 */
int
bp_psi_trigger_arm(double pct, const char **why)
{
	char		trigger[64];
	int64		threshold;
	struct epoll_event ev;

	*why = NULL;
	if (psi_epoll >= 0 && pct == psi_armed_pct)
		return psi_epoll;
	bp_psi_trigger_disarm();
	if (!paths.found)
		bp_memsignal_find();
	if (paths.psi[0] == '\0')
	{
		*why = "the kernel has no memory pressure file";
		return -1;
	}
	threshold = (int64) (pct / 100.0 * BP_PSI_WINDOW_US);
	threshold = Max(Min(threshold, BP_PSI_WINDOW_US - 1), 1);
	snprintf(trigger, sizeof(trigger), "some %lld %d", (long long) threshold, BP_PSI_WINDOW_US);
	if (!AcquireExternalFD())
	{
		*why = "no file descriptor left";
		return -1;
	}
	psi_fd = open(paths.psi, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (psi_fd < 0)
	{
		ReleaseExternalFD();
		snprintf(psi_desc, sizeof(psi_desc), "could not open \"%s\" for writing: %s",
				 paths.psi, strerror(errno));
		*why = psi_desc;
		return -1;
	}
	if (write(psi_fd, trigger, strlen(trigger) + 1) < 0)
	{
		int			save_errno = errno;

		bp_psi_trigger_disarm();
		snprintf(psi_desc, sizeof(psi_desc), "the kernel refused the trigger \"%s\" on \"%s\": %s",
				 trigger, paths.psi, strerror(save_errno));
		*why = psi_desc;
		return -1;
	}
	if (!AcquireExternalFD())
	{
		bp_psi_trigger_disarm();
		*why = "no file descriptor left";
		return -1;
	}
	psi_epoll = epoll_create1(EPOLL_CLOEXEC);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLPRI;
	if (psi_epoll < 0 || epoll_ctl(psi_epoll, EPOLL_CTL_ADD, psi_fd, &ev) != 0)
	{
		int			save_errno = errno;

		if (psi_epoll < 0)
			ReleaseExternalFD();
		bp_psi_trigger_disarm();
		snprintf(psi_desc, sizeof(psi_desc), "could not watch the trigger: %s", strerror(save_errno));
		*why = psi_desc;
		return -1;
	}
	psi_armed_pct = pct;
	psi_generation++;
	snprintf(psi_desc, sizeof(psi_desc), "%s on %s", trigger, paths.psi);
	return psi_epoll;
}

/* What the armed trigger is ("some 200000 2000000 on <file>"), or "". */
const char *
bp_psi_trigger_desc(void)
{
	return psi_epoll >= 0 ? psi_desc : "";
}

/*
 * Empty the trigger's epoll set after its descriptor was readable.  The
 * kernel clears a firing when it is first polled, which the wait set's
 * own epoll_wait did, so this finds nothing as a rule: the wake-up was
 * the news.  A wait set that lives across waits (the pool manager's)
 * keeps a firing that comes while the manager is busy until its next
 * wait.
 */
void
bp_psi_trigger_drain(void)
{
	struct epoll_event ev;

	if (psi_epoll >= 0)
		(void) epoll_wait(psi_epoll, &ev, 1, 0);
}

/*
 * Read the signals now.  Returns false, with s->error saying which file,
 * if the source found cannot be read (the caller falls back to observe).
 */
bool
bp_memsignal_read(BpMemSignals *s)
{
	memset(s, 0, sizeof(*s));
	s->psi_some_avg10 = -1;
	s->psi_full_avg10 = -1;
	if (!paths.found)
		bp_memsignal_find();
	s->source = paths.source;
	strlcpy(s->where, paths.source == BP_MEMSRC_MEMINFO ? "/proc/meminfo" : paths.dir,
			sizeof(s->where));

	if (paths.source == BP_MEMSRC_CGROUP2 || paths.source == BP_MEMSRC_CGROUP1)
	{
		bool		v2 = paths.source == BP_MEMSRC_CGROUP2;
		char		stat[MAXPGPATH];
		int64		inactive = 0;

		snprintf(stat, sizeof(stat), "%s/memory.stat", paths.dir);
		if (!bp_read_number(paths.dir, v2 ? "memory.max" : "memory.limit_in_bytes", &s->limit) ||
			!bp_read_number(paths.dir, v2 ? "memory.current" : "memory.usage_in_bytes", &s->usage))
		{
			snprintf(s->error, sizeof(s->error), "could not read the memory files of cgroup \"%s\"",
					 paths.dir);
			return false;
		}
		(void) bp_read_keyed(stat, v2 ? "inactive_file" : "total_inactive_file", 1, &inactive);
		s->working_set = Max(s->usage - inactive, 0);
		if (s->limit < 0 || s->limit >= BP_CGROUP_UNLIMITED)
		{
			/* a cgroup without a limit: the machine's memory is the limit */
			BpMemSignals m;

			if (!bp_read_meminfo(&m))
			{
				snprintf(s->error, sizeof(s->error), "could not read \"/proc/meminfo\"");
				return false;
			}
			s->limit = m.limit;
		}
	}
	else if (!bp_read_meminfo(s))
	{
		snprintf(s->error, sizeof(s->error), "could not read \"/proc/meminfo\"");
		return false;
	}
	if (paths.psi[0])
	{
		if (!bp_read_psi(paths.psi, &s->psi_some_avg10, &s->psi_full_avg10))
		{
			snprintf(s->error, sizeof(s->error), "could not read \"%s\"", paths.psi);
			return false;
		}
	}
	if (bp_memory_limit_mb > 0)
		s->limit = (int64) bp_memory_limit_mb * 1024 * 1024;

	/* a test replaces the readings (the test module's "signals" action) */
	if (BP_FAULT("memory-signals", s))
		s->source = BP_MEMSRC_INJECTED;
	return true;
}

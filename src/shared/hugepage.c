/*-------------------------------------------------------------------------
 *
 * hugepage.c
 *	  Chunk memory in explicit huge pages (hugetlbfs files), NUMA
 *	  placement of chunk memory, and what the kernel gave a mapping.
 *
 * Why hugetlbfs files.  A chunk must be mapped by every process, also by
 * processes that start after it was made, must give its memory back at
 * once when a shrink removes it, and must leave nothing behind after a
 * crash.  The candidates:
 *
 *	- MADV_HUGEPAGE on the POSIX DSM segment: /dev/shm (tmpfs) only gives
 *	  transparent huge pages when mounted with huge= or when
 *	  shmem_enabled allows it; both are system settings (here: none,
 *	  never), so on most machines it does nothing.
 *	- memfd_create(MFD_HUGETLB): needs no mount, but the memory is known
 *	  only by a file descriptor, which other processes must get from the
 *	  creator (SCM_RIGHTS, pidfd_getfd, or /proc/<pid>/fd); a pool manager
 *	  restarted over a ready pool would have lost them.
 *	- PostgreSQL's own huge_pages: the main shared memory only, sized at
 *	  start; a chunk added by a grow cannot live there.
 *	- A file in a hugetlbfs mount (chosen): any process opens it by name
 *	  and maps it MAP_SHARED; the kernel reserves the huge pages at the
 *	  creator's mmap (ENOMEM at once if too few are free, never a SIGBUS
 *	  later); fallocate(PUNCH_HOLE) frees them at once even while others
 *	  still map the file, as MADV_REMOVE does for tmpfs.  The cost: a
 *	  hugetlbfs mount the server's user can write (systemd mounts
 *	  /dev/hugepages, root-owned; see the README), and files to remove.
 *
 * Files are named bufpool_ext.<port>.<handle> in that directory (the
 * port tells two clusters on one machine apart).  The manager makes them
 * (bp_huge_create); a shrink punches and unlinks them (bp_huge_release);
 * the postmaster removes every file of its port when it sets up shared
 * memory (a crash-restart's leftovers) and when it exits
 * (bp_huge_cleanup), so nothing outlives the cluster.
 *
 * NUMA placement (bufpool_ext.numa_placement): interleave across the
 * nodes, or instance i's chunks on node i mod nodes.  A hugetlbfs mapping
 * gets an mbind() policy before anything touches it; a POSIX DSM segment
 * is filled when it is created, so the manager sets its own task policy
 * around dsm_create instead (chunk.c).  What the kernel did is measured,
 * never assumed: bp_numa_count asks move_pages() where each page is.
 *
 * IDENTIFICATION
 *	  src/shared/hugepage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_LIBNUMA
#include <numa.h>
#include <numaif.h>
#endif

#include "postmaster/postmaster.h"

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memsignal.h"
#include "bufpool_ext/shared/hugepage.h"

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE		0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE	0x02
#endif

/* The system's default huge page size (Hugepagesize in /proc/meminfo), or 0. */
Size
bp_huge_default_size(void)
{
	int64		bytes;

	return bp_read_keyed("/proc/meminfo", "Hugepagesize", 1024, &bytes) ? (Size) bytes : 0;
}

/* The huge page size the settings ask for: huge_page_size, or the default. */
Size
bp_huge_page_size(void)
{
	return bp_huge_page_size_kb > 0 ? (Size) bp_huge_page_size_kb * 1024 : bp_huge_default_size();
}

/*
 * Huge pages of that size nobody has taken or reserved (free less
 * reserved: a MAP_SHARED mapping reserves its pages at mmap), or -1.
 */
long
bp_huge_available_pages(Size page_size)
{
	char		dir[MAXPGPATH];
	int64		free_pages;
	int64		resv;

	snprintf(dir, sizeof(dir), "/sys/kernel/mm/hugepages/hugepages-%zukB", page_size / 1024);
	if (!bp_read_number(dir, "free_hugepages", &free_pages) ||
		!bp_read_number(dir, "resv_hugepages", &resv) || free_pages < 0 || resv < 0)
		return -1;
	return (long) (free_pages - resv);
}

/* The page size of a hugetlbfs mount, from its options ("pagesize=2M"). */
static Size
bp_huge_mount_page_size(const char *options)
{
	const char *p = strstr(options, "pagesize=");
	char	   *end;
	unsigned long v;

	if (p == NULL)
		return bp_huge_default_size();
	v = strtoul(p + 9, &end, 10);
	if (*end == 'G' || *end == 'g')
		return (Size) v * 1024 * 1024 * 1024;
	if (*end == 'M' || *end == 'm')
		return (Size) v * 1024 * 1024;
	if (*end == 'K' || *end == 'k')
		return (Size) v * 1024;
	return (Size) v;
}

/*
 * The directory of chunk files for pages of page_size: huge_page_dir, or
 * the first hugetlbfs mount of that page size this process may write.
 * false, with the reason in why, if there is none.
 */
bool
bp_huge_dir(Size page_size, char *dir, size_t len, char *why, size_t why_len)
{
	FILE	   *f;
	char		line[1024];
	bool		found = false;
	int			mounts = 0;

	if (bp_huge_page_dir != NULL && bp_huge_page_dir[0] != '\0')
	{
		struct stat st;

		if (stat(bp_huge_page_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		{
			snprintf(why, why_len, "bufpool_ext.huge_page_dir \"%s\" is not a directory",
					 bp_huge_page_dir);
			return false;
		}
		strlcpy(dir, bp_huge_page_dir, len);
		return true;
	}
	f = fopen("/proc/mounts", "r");
	if (f == NULL)
	{
		snprintf(why, why_len, "could not read /proc/mounts: %m");
		return false;
	}
	while (!found && fgets(line, sizeof(line), f) != NULL)
	{
		char		dev[256],
					mnt[MAXPGPATH],
					type[64],
					opts[512];

		if (sscanf(line, "%255s %1023s %63s %511s", dev, mnt, type, opts) != 4 ||
			strcmp(type, "hugetlbfs") != 0)
			continue;
		mounts++;
		if (bp_huge_mount_page_size(opts) != page_size || access(mnt, W_OK | X_OK) != 0)
			continue;
		strlcpy(dir, mnt, len);
		found = true;
	}
	fclose(f);
	if (!found)
		snprintf(why, why_len,
				 mounts == 0 ? "no hugetlbfs file system is mounted" :
				 "no hugetlbfs mount of %zu kB pages is writable by this server",
				 page_size / 1024);
	return found;
}

static void
bp_huge_path(const char *dir, uint32 handle, char *path, size_t len)
{
	snprintf(path, len, "%s/bufpool_ext.%d.%u", dir, PostPortNumber, handle);
}

/*
 * Make and map the chunk file of handle: size bytes of huge pages,
 * reserved by the kernel at the mmap.  Returns the mapping, or NULL with
 * the reason in why (nothing left behind).
 */
char *
bp_huge_create(const char *dir, uint32 handle, Size size, char *why, size_t why_len)
{
	char		path[MAXPGPATH];
	int			fd;
	void	   *addr;

	bp_huge_path(dir, handle, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
	{
		snprintf(why, why_len, "could not create \"%s\": %m", path);
		return NULL;
	}
	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
	{
		int			save = errno;
		long		free_pages = bp_huge_available_pages(bp_huge_page_size());

		close(fd);
		unlink(path);
		errno = save;
		if (save == ENOMEM)
			snprintf(why, why_len,
					 "not enough free huge pages for %zu MB: %ld of %zu kB free (vm.nr_hugepages)",
					 size / (1024 * 1024), free_pages, bp_huge_page_size() / 1024);
		else
			snprintf(why, why_len, "could not map \"%s\": %m", path);
		return NULL;
	}
	close(fd);
	return (char *) addr;
}

/* Map an existing chunk file (made by the manager); NULL if it is gone. */
char *
bp_huge_map(const char *dir, uint32 handle, Size size)
{
	char		path[MAXPGPATH];
	int			fd;
	void	   *addr;

	bp_huge_path(dir, handle, path, sizeof(path));
	fd = open(path, O_RDWR, 0);
	if (fd < 0)
		return NULL;
	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return addr == MAP_FAILED ? NULL : (char *) addr;
}

/*
 * Give a chunk file's huge pages back at once (every process's mapping
 * of it becomes a hole) and remove the file.
 */
void
bp_huge_release(const char *dir, uint32 handle, Size size)
{
	char		path[MAXPGPATH];
	int			fd;

	bp_huge_path(dir, handle, path, sizeof(path));
	fd = open(path, O_RDWR, 0);
	if (fd >= 0)
	{
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t) size) != 0)
			ereport(LOG,
					(errmsg("bufpool_ext: could not free the huge pages of \"%s\" at once: %m", path)));
		close(fd);
	}
	if (unlink(path) != 0 && errno != ENOENT)
		ereport(LOG, (errmsg("bufpool_ext: could not remove \"%s\": %m", path)));
}

/*
 * Remove every chunk file of this cluster (its port) from the hugetlbfs
 * directory the settings name: in the postmaster when shared memory is
 * set up (what a crash left) and when it exits.  Returns how many.
 */
int
bp_huge_cleanup(void)
{
	char		dir[MAXPGPATH];
	char		why[256];
	char		prefix[64];
	DIR		   *d;
	struct dirent *de;
	int			n = 0;
	Size		page_size;

	if (bp_huge_pages == BP_HUGE_OFF && (bp_huge_page_dir == NULL || bp_huge_page_dir[0] == '\0'))
		return 0;
	page_size = bp_huge_page_size();
	if (page_size == 0 || !bp_huge_dir(page_size, dir, sizeof(dir), why, sizeof(why)))
		return 0;
	snprintf(prefix, sizeof(prefix), "bufpool_ext.%d.", PostPortNumber);
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
	{
		char		path[MAXPGPATH];

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/*
 * The page size the kernel maps at addr, in kB (KernelPageSize of the
 * mapping in /proc/self/smaps), or 0 if not found.
 */
uint32
bp_mapping_page_kb(const void *addr)
{
	FILE	   *f = fopen("/proc/self/smaps", "r");
	char		line[512];
	bool		in = false;
	uint32		kb = 0;
	uintptr_t	a = (uintptr_t) addr;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		unsigned long lo,
					hi;
		unsigned int v;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
		{
			in = a >= lo && a < hi;
			continue;
		}
		if (in && sscanf(line, "KernelPageSize: %u kB", &v) == 1)
		{
			kb = v;
			break;
		}
	}
	fclose(f);
	return kb;
}

/* ---------------------------------------------------------------- NUMA */

/* NUMA nodes with memory, or 0 when libnuma is missing or unusable. */
int
bp_numa_nodes(void)
{
#ifdef HAVE_LIBNUMA
	if (numa_available() < 0)
		return 0;
	return numa_num_configured_nodes();
#else
	return 0;
#endif
}

/*
 * Apply the placement to a mapping nothing has touched yet (a hugetlbfs
 * chunk): interleave, or bind to node.  Returns false, errno set, if the
 * kernel refused.
 */
bool
bp_numa_mbind(void *addr, Size size, int placement, int node)
{
#ifdef HAVE_LIBNUMA
	int			nodes = bp_numa_nodes();
	unsigned long mask[16] = {0};
	int			i;

	if (nodes < 1 || placement == BP_NUMA_OFF)
		return true;
	if (placement == BP_NUMA_INTERLEAVE)
	{
		for (i = 0; i < nodes && i < (int) (sizeof(mask) * 8); i++)
			mask[i / (8 * sizeof(long))] |= 1UL << (i % (8 * sizeof(long)));
		return mbind(addr, size, MPOL_INTERLEAVE, mask, sizeof(mask) * 8, 0) == 0;
	}
	mask[node / (8 * sizeof(long))] |= 1UL << (node % (8 * sizeof(long)));
	return mbind(addr, size, MPOL_BIND, mask, sizeof(mask) * 8, 0) == 0;
#else
	return true;
#endif
}

/*
 * Count where the pages of [addr, addr + size) are, stepping by step
 * bytes (the mapping's page size): counts[n] for node n < max_nodes,
 * *absent for pages the kernel could not say.  Reads each page first.
 * Returns false if move_pages() is not available.
 */
bool
bp_numa_count(const char *addr, Size size, Size step, int64 *counts, int max_nodes, int64 *absent)
{
#ifdef HAVE_LIBNUMA
	void	   *pages[512];
	int			status[512];
	Size		off = 0;

	if (numa_available() < 0)
		return false;
	while (off < size)
	{
		int			k = 0;
		int			i;

		while (k < lengthof(pages) && off < size)
		{
			/*
			 * move_pages() sees only pages mapped in this process: read
			 * each one first.  A chunk's memory is all allocated (DSM) or
			 * reserved (hugetlbfs) already, so this takes nothing new.
			 */
			(void) *(volatile const char *) (addr + off);
			pages[k++] = (void *) (addr + off);
			off += step;
		}
		if (numa_move_pages(0, k, pages, NULL, status, 0) != 0)
			return false;
		for (i = 0; i < k; i++)
		{
			if (status[i] >= 0 && status[i] < max_nodes)
				counts[status[i]]++;
			else
				(*absent)++;
		}
	}
	return true;
#else
	return false;
#endif
}

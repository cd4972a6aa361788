/*-------------------------------------------------------------------------
 *
 * page.c
 *	  The on-page header of bufpool_ext pages and its checksum.
 *
 * Every page starts with a BpPageHeader: the LSN of the newest
 * modification written with it, its space and page number (so a
 * misdirected write is caught), and a CRC-32C of the whole page computed
 * with the checksum field as zero.  A page that is all zeros has never
 * been written and is accepted as new.  The checksum is set on a private
 * copy just before the write, never in the shared frame.
 *
 * IDENTIFICATION
 *	  src/base/page.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/pg_crc32c.h"

#include "bufpool_ext/base/page.h"

int			BpPageSize = 0;

/* Whether n bytes at p (8-byte aligned) are all zero. */
bool
bp_bytes_are_zero(const char *p, int n)
{
	const uint64 *w = (const uint64 *) p;
	int			i;

	for (i = 0; i < n / (int) sizeof(uint64); i++)
		if (w[i] != 0)
			return false;
	for (i = n - n % (int) sizeof(uint64); i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

bool
bp_page_is_new(const char *page)
{
	return bp_bytes_are_zero(page, BpPageSize);
}

void
bp_page_init(char *page, uint32 space_id, uint32 page_no)
{
	BpPageHeader *h = (BpPageHeader *) page;

	memset(page, 0, BpPageSize);
	h->space_id = space_id;
	h->page_no = page_no;
	h->version = BP_PAGE_VERSION;
}

uint32
bp_page_checksum(const char *page)
{
	static const uint32 zero = 0;
	pg_crc32c	crc;
	Size		off = offsetof(BpPageHeader, checksum);

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, page, off);
	COMP_CRC32C(crc, &zero, sizeof(zero));
	COMP_CRC32C(crc, page + off + sizeof(uint32), BpPageSize - off - sizeof(uint32));
	FIN_CRC32C(crc);
	/* 0 is reserved for "no checksum" (a new page) */
	return crc == 0 ? 1 : crc;
}

void
bp_page_set_checksum(char *page)
{
	((BpPageHeader *) page)->checksum = bp_page_checksum(page);
}

/*
 * Set the header fields and the checksum of a private copy about to be
 * written as page page_no of space space_id.
 */
void
bp_page_prepare_write(char *page, uint32 space_id, uint32 page_no)
{
	BpPageHeader *h = (BpPageHeader *) page;

	h->space_id = space_id;
	h->page_no = page_no;
	h->version = BP_PAGE_VERSION;
	bp_page_set_checksum(page);
}

/*
 * The checks of bp_page_verify without an ERROR: true if the page's
 * checksum, space, page number and format version are right.  For
 * doublewrite recovery (a torn page fails the checksum).
 */
bool
bp_page_is_intact(const char *page, uint32 space_id, uint32 page_no)
{
	const BpPageHeader *h = (const BpPageHeader *) page;

	return h->checksum == bp_page_checksum(page) &&
		h->space_id == space_id && h->page_no == page_no &&
		h->version == BP_PAGE_VERSION;
}

/*
 * Check a page just read from its file.  Raises ERROR naming the space
 * and page on any mismatch.
 */
void
bp_page_verify(const char *page, uint32 space_id, uint32 page_no)
{
	const BpPageHeader *h = (const BpPageHeader *) page;
	uint32		crc = bp_page_checksum(page);

	if (h->checksum != crc)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("checksum mismatch in page %u of bufpool space %u", page_no, space_id),
				 errdetail("The page header says checksum %u, the page computes to %u.",
						   h->checksum, crc)));
	if (h->space_id != space_id || h->page_no != page_no)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("page %u of bufpool space %u holds page %u of space %u",
						page_no, space_id, h->page_no, h->space_id),
				 errdetail("The page was written to the wrong place.")));
	if (h->version != BP_PAGE_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("page %u of bufpool space %u has unknown format version %u",
						page_no, space_id, h->version)));
}

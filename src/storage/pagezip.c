/*-------------------------------------------------------------------------
 *
 * pagezip.c
 *	  The compressed image of a page: what a compressed space stores in a
 *	  slot of key_block_size bytes.
 *
 * A slot starts with a page header of its own (BpPageHeader: the page's
 * LSN, space and page number, and a CRC-32C of the whole slot), so that
 * a slot can be verified, and the page's LSN read, without decompressing
 * it; flags say BP_ZIP_F_COMPRESSED and the algorithm.  Then a BpZipHeader
 * (the compressed length), then the page's payload compressed, then zeros
 * to the end of the slot.
 *
 * The algorithms: lz4 (LZ4_compress_default: about 500 MB/s compressing
 * and several GB/s decompressing on one core by its authors' figures,
 * the choice for a cache that decompresses on every miss of the frame)
 * and zstd (level 1: a better ratio for about half lz4's speed).  Both
 * ship with Debian's PostgreSQL 15 (liblz4-1, libzstd1; we link
 * liblz4-dev and libzstd-dev).  pglz is not offered: PostgreSQL's own
 * figures put it several times slower than lz4 for a similar ratio.
 *
 * A page whose compressed payload does not fit the slot (incompressible
 * data) cannot be split as InnoDB splits its B-tree page: bp_zip_compress
 * says so (-1), and the caller stores the page whole elsewhere, as the
 * space's design says.  compress_ops counts every attempt and
 * compress_ops_ok those that fit, as InnoDB's INNODB_CMP does.
 *
 * IDENTIFICATION
 *	  src/storage/pagezip.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <lz4.h>
#include <zstd.h>

#include "port/pg_crc32c.h"

#include "bufpool_ext/storage/pagezip.h"

/* the header of a slot after its page header */
typedef struct BpZipHeader
{
	uint32		zip_len;		/* compressed payload bytes */
	uint32		raw_len;		/* the page's payload bytes it decompresses to */
} BpZipHeader;

#define BP_ZIP_HDR		(BP_PAGE_HEADER_SIZE + sizeof(BpZipHeader))

/*
 * zstd's contexts, one of each per process, made on first use: ZSTD_compress
 * and ZSTD_decompress would allocate and free one (hundreds of kB) per
 * call, which costs more than decompressing a page.  Never freed: a
 * process keeps them until it exits.
 */
static ZSTD_CCtx *zstd_cctx = NULL;
static ZSTD_DCtx *zstd_dctx = NULL;

const char *
bp_zip_algorithm_name(int algorithm)
{
	switch (algorithm)
	{
		case BP_ZIP_NONE:
			return "none";
		case BP_ZIP_LZ4:
			return "lz4";
		case BP_ZIP_ZSTD:
			return "zstd";
	}
	return "unknown";
}

/* BP_ZIP_* of a name, or -1. */
int
bp_zip_algorithm_from_name(const char *name)
{
	if (pg_strcasecmp(name, "none") == 0)
		return BP_ZIP_NONE;
	if (pg_strcasecmp(name, "lz4") == 0)
		return BP_ZIP_LZ4;
	if (pg_strcasecmp(name, "zstd") == 0)
		return BP_ZIP_ZSTD;
	return -1;
}

/* The CRC-32C of a slot with its checksum field as 0. */
static uint32
bp_zip_slot_crc(const char *slot, int slot_size)
{
	BpPageHeader h;
	pg_crc32c	crc;

	memcpy(&h, slot, BP_PAGE_HEADER_SIZE);
	h.checksum = 0;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &h, BP_PAGE_HEADER_SIZE);
	COMP_CRC32C(crc, slot + BP_PAGE_HEADER_SIZE, slot_size - BP_PAGE_HEADER_SIZE);
	FIN_CRC32C(crc);
	return (uint32) crc;
}

/*
 * Compress page (page_size bytes, a page header first) into slot
 * (slot_size bytes) with algorithm.  Returns the bytes of the slot in use
 * (header and compressed payload; the rest is zeroed), or -1 if the
 * compressed page does not fit, slot then undefined.
 */
int
bp_zip_compress(int algorithm, const char *page, int page_size, char *slot, int slot_size)
{
	const BpPageHeader *ph = (const BpPageHeader *) page;
	BpPageHeader *sh = (BpPageHeader *) slot;
	BpZipHeader zh;
	int			raw = page_size - (int) BP_PAGE_HEADER_SIZE;
	int			room = slot_size - (int) BP_ZIP_HDR;
	int			n = -1;

	if (room <= 0)
		return -1;
	switch (algorithm)
	{
		case BP_ZIP_LZ4:
			n = LZ4_compress_default(page + BP_PAGE_HEADER_SIZE, slot + BP_ZIP_HDR, raw, room);
			if (n <= 0)
				n = -1;
			break;
		case BP_ZIP_ZSTD:
			{
				size_t		r;

				if (zstd_cctx == NULL && (zstd_cctx = ZSTD_createCCtx()) == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_OUT_OF_MEMORY),
							 errmsg("out of memory for a zstd compression context")));
				r = ZSTD_compressCCtx(zstd_cctx, slot + BP_ZIP_HDR, (size_t) room,
									  page + BP_PAGE_HEADER_SIZE, (size_t) raw, 1);

				n = ZSTD_isError(r) ? -1 : (int) r;
				break;
			}
		default:
			elog(ERROR, "bufpool_ext: unknown page compression %d", algorithm);
	}
	if (n < 0)
		return -1;
	memset(sh, 0, BP_PAGE_HEADER_SIZE);
	sh->lsn = ph->lsn;
	sh->space_id = ph->space_id;
	sh->page_no = ph->page_no;
	sh->version = BP_PAGE_VERSION;
	sh->flags = (uint16) (BP_ZIP_F_COMPRESSED | (algorithm << BP_ZIP_F_ALGO_SHIFT));
	zh.zip_len = (uint32) n;
	zh.raw_len = (uint32) raw;
	memcpy(slot + BP_PAGE_HEADER_SIZE, &zh, sizeof(zh));
	memset(slot + BP_ZIP_HDR + n, 0, room - n);
	sh->checksum = bp_zip_slot_crc(slot, slot_size);
	return (int) BP_ZIP_HDR + n;
}

/*
 * Check a slot without decompressing it: its CRC, and that it is a
 * compressed image of (space_id, page_no).  Returns NULL if it is, else
 * what is wrong.
 */
const char *
bp_zip_check(const char *slot, int slot_size, uint32 space_id, uint32 page_no)
{
	const BpPageHeader *sh = (const BpPageHeader *) slot;
	BpZipHeader zh;

	if (!(sh->flags & BP_ZIP_F_COMPRESSED))
		return "not a compressed page image";
	if (bp_zip_slot_crc(slot, slot_size) != sh->checksum)
		return "checksum mismatch";
	if (sh->space_id != space_id || sh->page_no != page_no)
		return "the image belongs to another page";
	if (sh->flags & BP_ZIP_F_OVERFLOW)
		return NULL;
	memcpy(&zh, slot + BP_PAGE_HEADER_SIZE, sizeof(zh));
	if (zh.zip_len > (uint32) (slot_size - (int) BP_ZIP_HDR))
		return "compressed length past the slot";
	return NULL;
}

/*
 * The slot of a page that did not fit: its header only (LSN, space, page,
 * the CRC of the slot), flagged BP_ZIP_F_OVERFLOW; the page itself is in
 * the space's overflow file.
 */
void
bp_zip_overflow_slot(const char *page, char *slot, int slot_size)
{
	const BpPageHeader *ph = (const BpPageHeader *) page;
	BpPageHeader *sh = (BpPageHeader *) slot;

	memset(slot, 0, slot_size);
	sh->lsn = ph->lsn;
	sh->space_id = ph->space_id;
	sh->page_no = ph->page_no;
	sh->version = BP_PAGE_VERSION;
	sh->flags = BP_ZIP_F_COMPRESSED | BP_ZIP_F_OVERFLOW;
	sh->checksum = bp_zip_slot_crc(slot, slot_size);
}

bool
bp_zip_is_overflow(const char *slot)
{
	return (((const BpPageHeader *) slot)->flags & BP_ZIP_F_OVERFLOW) != 0;
}

/* The bytes of a checked slot in use (an overflow slot: its headers only). */
int
bp_zip_used(const char *slot)
{
	BpZipHeader zh;

	memcpy(&zh, slot + BP_PAGE_HEADER_SIZE, sizeof(zh));
	return (int) (BP_ZIP_HDR + zh.zip_len);
}

/* The LSN of a slot's page, read without decompressing. */
uint64
bp_zip_lsn(const char *slot)
{
	return ((const BpPageHeader *) slot)->lsn;
}

/*
 * Decompress a slot checked by bp_zip_check into page (page_size bytes):
 * the payload, and a page header with the slot's LSN, space and page
 * number (its checksum is set when the page is written).  false if the
 * data do not decompress to exactly one page.
 */
bool
bp_zip_decompress(const char *slot, int slot_size, char *page, int page_size)
{
	const BpPageHeader *sh = (const BpPageHeader *) slot;
	BpPageHeader *ph = (BpPageHeader *) page;
	BpZipHeader zh;
	int			raw = page_size - (int) BP_PAGE_HEADER_SIZE;
	int			algorithm = (sh->flags & BP_ZIP_F_ALGO_MASK) >> BP_ZIP_F_ALGO_SHIFT;
	int			n;

	memcpy(&zh, slot + BP_PAGE_HEADER_SIZE, sizeof(zh));
	if (zh.raw_len != (uint32) raw || zh.zip_len > (uint32) (slot_size - (int) BP_ZIP_HDR))
		return false;
	switch (algorithm)
	{
		case BP_ZIP_LZ4:
			n = LZ4_decompress_safe(slot + BP_ZIP_HDR, page + BP_PAGE_HEADER_SIZE,
									(int) zh.zip_len, raw);
			break;
		case BP_ZIP_ZSTD:
			{
				size_t		r;

				if (zstd_dctx == NULL && (zstd_dctx = ZSTD_createDCtx()) == NULL)
					return false;
				r = ZSTD_decompressDCtx(zstd_dctx, page + BP_PAGE_HEADER_SIZE, (size_t) raw,
										slot + BP_ZIP_HDR, zh.zip_len);

				n = ZSTD_isError(r) ? -1 : (int) r;
				break;
			}
		default:
			return false;
	}
	if (n != raw)
		return false;
	memset(ph, 0, BP_PAGE_HEADER_SIZE);
	ph->lsn = sh->lsn;
	ph->space_id = sh->space_id;
	ph->page_no = sh->page_no;
	ph->version = BP_PAGE_VERSION;
	return true;
}

/*-------------------------------------------------------------------------
 *
 * resize.h
 *	  Online resize of the buffer pool (resize.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/pool/resize.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_RESIZE_H
#define BUFPOOL_EXT_RESIZE_H

#include "bufpool_ext/shared/shmem.h"

extern int64 bp_resize_current_size(void);
extern bool bp_resize_busy(void);
extern bool bp_resize_cancel_held(const char *why);
extern int64 bp_resize_parse_size(const char *str);
extern int	bp_resize_chunks_for(int64 bytes, const char *what);
extern int64 bp_resize_start(const char *size_txt, const char *source);
extern void bp_resize_wait(int64 id, BpResizeStatus *st);
extern bool bp_resize_lookup(int64 id, BpResizeStatus *out);
extern int	bp_resize_list(BpResizeStatus *rows, bool *current);
extern const char *bp_resize_phase_name(int phase);
extern void bp_resize_run_pending(void);
extern void bp_resize_from_config(void);

#endif							/* BUFPOOL_EXT_RESIZE_H */

/*-------------------------------------------------------------------------
 *
 * warm.h
 *	  Warm restart: the dump of the pool's hottest pages and its load
 *	  (warm.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/pool/warm.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_WARM_H
#define BUFPOOL_EXT_WARM_H

#include "bufpool_ext/shared/shmem.h"

#define BP_DUMP_FILE	"bufpool_ext/buffer_pool_dump"

extern int64 bp_warm_dump(bool quiet, const char **why);
extern void bp_warm_load(int64 op_id);
extern void bp_warm_startup(void);

/* the status ring */
extern int64 bp_warm_begin(int kind);
extern void bp_warm_publish(const BpWarmOp *op);
extern bool bp_warm_get(int64 id, BpWarmOp *out);
extern int	bp_warm_list(BpWarmOp *out);
extern void bp_warm_finish(BpWarmOp *op, int state, int elevel, const char *fmt,...)
			pg_attribute_printf(4, 5);
extern double bp_warm_rate(const BpWarmOp *op);
extern const char *bp_warm_op_name(int kind);
extern const char *bp_warm_state_name(int state);

#endif							/* BUFPOOL_EXT_WARM_H */

/*-------------------------------------------------------------------------
 *
 * trycall.h
 *	  Run a step whose ERROR is reported, not propagated (trycall.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/base/trycall.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_TRYCALL_H
#define BUFPOOL_EXT_TRYCALL_H

extern bool bp_try_call(void (*fn) (void *arg), void *arg,
						char *message, size_t message_len,
						char *hint, size_t hint_len);

#endif							/* BUFPOOL_EXT_TRYCALL_H */

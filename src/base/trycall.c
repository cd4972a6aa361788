/*-------------------------------------------------------------------------
 *
 * trycall.c
 *	  Run a step whose ERROR is reported, not propagated: a background
 *	  worker's periodic dump, the start of the loader, a governor's resize
 *	  request, one read of the warm-restart load.
 *
 * bp_try_call(fn, arg, ...) calls fn(arg).  If fn raises an ERROR, the
 * error is caught and flushed, the caller's memory context is restored,
 * and its message (and hint, if a buffer is given) is copied out.  fn must
 * leave no LWLock or other resource behind on its ERROR paths that only a
 * transaction abort would release: nothing here releases them.
 *
 * IDENTIFICATION
 *	  src/base/trycall.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "bufpool_ext/base/trycall.h"

/* Whether fn(arg) returned normally; else its error's message and hint. */
bool
bp_try_call(void (*fn) (void *arg), void *arg, char *message, size_t message_len,
			char *hint, size_t hint_len)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		ok = false;
		strlcpy(message, edata->message ? edata->message : "", message_len);
		if (hint != NULL)
			strlcpy(hint, edata->hint ? edata->hint : "", hint_len);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return ok;
}

/*-------------------------------------------------------------------------
 *
 * bufpool_test.h
 *	  Helpers shared by the files of the test module bufpool_test.
 *
 * The module calls bufpool_ext's internal C functions directly (as
 * PostgreSQL's src/test/modules do with the server's), so it is built
 * against the source tree's include/ and must match the library it is
 * loaded with.  bufpool_ext must be loaded first (shared_preload_libraries):
 * its symbols are resolved when this library is loaded.
 *
 * IDENTIFICATION
 *	  test/modules/bufpool_test/bufpool_test.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_TEST_H
#define BUFPOOL_TEST_H

#include "fmgr.h"

extern void bpt_require_superuser(const char *fname);
extern void bpt_not_null(FunctionCallInfo fcinfo, int argno, const char *fname,
						 const char *argname);
extern void bpt_check_loaded(void);

/* faults.c */
extern void bpt_faults_preload(void);

#endif							/* BUFPOOL_TEST_H */

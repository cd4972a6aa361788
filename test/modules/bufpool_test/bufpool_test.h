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

#include "bufpool_ext/sql/sql.h"

/* superuser and NULL checks of the functions of schema bufpool_test */
#define bpt_require_superuser(fname) \
	bp_sql_require_superuser_in("bufpool_test", (fname))
#define bpt_not_null(fcinfo, argno, fname, argname) \
	bp_sql_not_null_in((fcinfo), (argno), "bufpool_test", (fname), (argname))

extern void bpt_check_loaded(void);

/* faults.c */
extern void bpt_faults_preload(void);

#endif							/* BUFPOOL_TEST_H */

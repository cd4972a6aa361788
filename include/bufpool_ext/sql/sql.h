/*-------------------------------------------------------------------------
 *
 * sql.h
 *	  Helpers shared by the SQL-callable functions (sql_page.c).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/sql/sql.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_SQL_H
#define BUFPOOL_EXT_SQL_H

#include "fmgr.h"

/* ERROR unless superuser; the message names schema.fname */
extern void bp_sql_require_superuser_in(const char *schema, const char *fname);
/* ERROR if argument argno (argname) of schema.fname is NULL */
extern void bp_sql_not_null_in(FunctionCallInfo fcinfo, int argno, const char *schema,
							   const char *fname, const char *argname);
extern uint32 bp_sql_space_arg(int32 space_id);

/* the same for the functions of schema bufpool */
#define bp_sql_require_superuser(fname) \
	bp_sql_require_superuser_in("bufpool", (fname))
#define bp_sql_not_null(fcinfo, argno, fname, argname) \
	bp_sql_not_null_in((fcinfo), (argno), "bufpool", (fname), (argname))

#endif							/* BUFPOOL_EXT_SQL_H */

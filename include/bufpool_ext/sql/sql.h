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

extern void bp_sql_require_superuser(const char *fname);
extern uint32 bp_sql_space_arg(int32 space_id);
extern void bp_sql_not_null(FunctionCallInfo fcinfo, int argno, const char *fname,
							const char *argname);

#endif							/* BUFPOOL_EXT_SQL_H */

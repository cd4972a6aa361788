/* bufpool_ext 1.8 -> 1.9: the C API gains mini-transactions, conditional
   locks, the space calls and pages written from scratch (bufpool.h,
   BUFPOOL_EXT_VERSION_NUM 10900); nothing changes in SQL. */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.9'" to load this file. \quit

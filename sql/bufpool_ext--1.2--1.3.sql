/* bufpool_ext 1.2 -> 1.3: durability (redo log, doublewrite, recovery) */

\echo Use "ALTER EXTENSION bufpool_ext UPDATE TO '1.3'" to load this file. \quit

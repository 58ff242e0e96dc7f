/* report.h - `flowmedic report DB`: a readable (or --json) report of the runs in a database. */
#ifndef FM_REPORT_H
#define FM_REPORT_H

/*
 * argv[0] is "report". Prints to stdout; messages to stderr.
 * Returns the exit code: 0 done, 1 runtime error (database missing or unreadable),
 * 2 usage error (bad option or value).
 */
int cli_report_main(int argc, char **argv);

#endif

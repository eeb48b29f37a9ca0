/*
 * report.h - `stripwatch alerts`: the alerts of a database, filtered, as
 * a table, JSON lines (the feed's ECS objects) or CSV (RFC 4180).
 */
#ifndef SW_REPORT_H
#define SW_REPORT_H

/*
 * Runs the subcommand; argv[0] is "alerts".  Returns the exit status: 0
 * done, 1 error (a database that cannot be read), 2 bad usage.
 */
int	alerts_main(int argc, char **argv);

#endif

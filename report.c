/*
 * report.c - `stripwatch alerts`: the alerts of a database.
 */
#include <stdio.h>

#include "report.h"

int
alerts_main(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "stripwatch alerts: not available yet\n");
	return 2;
}

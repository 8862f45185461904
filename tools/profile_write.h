/* profile_write.h: the outputs of `nncl profile`: the console table, JSON and a CSV file (the
   Chrome trace is the library's nncl_profile_write_trace). Public API only, so the tests can drive them with
   synthetic profiles. */
#ifndef NNCL_PROFILE_WRITE_H
#define NNCL_PROFILE_WRITE_H

#include <stdio.h>

#include "nncl/profile.h"

/* Prints the per-node table, the summary by op type, totals and one-time costs. `title` names
   what was profiled (the model file). */
void profile_print_table(FILE *f, const nncl_profile *p, const char *title);
/* The same figures as one JSON object on stdout (`nncl profile --json`). */
void profile_print_json(const nncl_profile *p, const char *title);
/* One row per node, header first; RFC 4180 quoting. 0 on success, -1 with err filled. */
int profile_write_csv(const nncl_profile *p, const char *path, char *err, size_t err_len);
#endif

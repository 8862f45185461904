/* demo_progress.h: a progress bar on a terminal, a few plain lines otherwise (logs, pipes). */
#ifndef NNCL_DEMO_PROGRESS_H
#define NNCL_DEMO_PROGRESS_H

#include <stdio.h>

typedef struct demo_progress {
  FILE *f;
  const char *label;
  long total;
  int tty;          /* draw a bar redrawn in place */
  int last_quarter; /* plain mode: the last 25% step printed */
  double t0;
} demo_progress;

/* Seconds from a monotonic clock. */
double demo_now(void);

void demo_progress_start(demo_progress *p, FILE *f, const char *label, long total);
/* done items out of total; rate is shown in items per second since start. */
void demo_progress_update(demo_progress *p, long done);
/* Ends the bar's line (terminal) so that the next output starts clean. */
void demo_progress_end(demo_progress *p);

#endif

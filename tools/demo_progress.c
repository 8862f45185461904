/* demo_progress.c: progress reporting for long CLI loops: a bar on a terminal, plain lines at every
   quarter when the output is a file or pipe (where carriage returns would garble the log). */
#include "demo_progress.h"

#include <time.h>
#include <unistd.h>

double demo_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void demo_progress_start(demo_progress *p, FILE *f, const char *label, long total) {
  p->f = f;
  p->label = label;
  p->total = total > 0 ? total : 1;
  p->tty = isatty(fileno(f));
  p->last_quarter = 0;
  p->t0 = demo_now();
}

void demo_progress_update(demo_progress *p, long done) {
  double secs = demo_now() - p->t0;
  double rate = secs > 0 ? (double)done / secs : 0.0;
  int pct = (int)(100 * done / p->total);
  if (p->tty) {
    enum { WIDTH = 30 };
    char bar[WIDTH + 1];
    int fill = (int)(WIDTH * done / p->total);
    for (int i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = 0;
    fprintf(p->f, "\r  %-6s [%s] %3d%% %6ld/%ld  %7.0f images/s", p->label, bar, pct, done,
            p->total, rate);
  } else {
    int quarter = (int)(4 * done / p->total);
    if (quarter <= p->last_quarter) return;
    p->last_quarter = quarter;
    fprintf(p->f, "  %-6s %3d%% %6ld/%ld  %7.0f images/s\n", p->label, pct, done, p->total, rate);
  }
  fflush(p->f);
}

void demo_progress_end(demo_progress *p) {
  if (p->tty) fputc('\n', p->f);
  fflush(p->f);
}

/* place_cost.h: what running a node on a device costs, for automatic placement (pass_place.c):
   its time there as nncl_graph_profile measured it (remembered per device in the cache folder)
   and the time to move a value between devices (the `nncl bench peak` host/device bandwidths),
   plus the internal hooks through which tests inject both and make a device refuse a node. */
#ifndef NNCL_PLACE_COST_H
#define NNCL_PLACE_COST_H
#include "graph_internal.h"

/* Internal test hooks (ctx->place_hooks on the root context; NULL in normal use). A NULL member
   keeps the measured figure. */
struct nncl__place_hooks {
  /* node n's time on device d in ns; < 0: not measured */
  double (*node_ns)(const struct pnode *n, int d, void *user);
  /* ns per byte moved from device `from` to device `to` */
  double (*byte_ns)(int from, int to, void *user);
  /* nonzero: device d refuses node n, as if it lacked what n needs */
  int (*refuse)(const struct pnode *n, int d, void *user);
  void *user;
};

/* Node n's remembered time on device d in ns, or -1 when it was never measured there. */
double place_node_ns(nncl_context *ctx, const struct plan *p, const struct pnode *n, int d);
/* ns per byte to move a value from device `from` to `to`: the source's device-to-host plus the
   destination's host-to-device time (the host path, an upper bound for a device copy), from the
   peak cache, measured there once when absent; -1 when it cannot be had. */
double place_byte_ns(nncl_context *ctx, int from, int to);
/* Node n's estimated work for cutting pipeline stages: with `measured`, its remembered time on
   device 0 in ns (-1 when it has none), else its FLOPs plus 4 per byte it moves (about a CPU's
   ridge point); 0 for views and nodes that launch nothing. */
double place_stage_work(nncl_context *ctx, const struct plan *p, const struct pnode *n,
                        int measured);
/* Remembers a profiled node's median device time under its device's key (best effort). */
void place_remember(nncl_context *ctx, const nncl_node_info *info, double device_ns);
#endif

/* profiling.h: profiling sessions on a context. Between nncl__prof_begin and nncl__prof_end every
   kernel launch, CLBlast call and transfer records an OpenCL event (launch.c); outside a session
   no event is requested at all, so profiling off costs nothing. */
#ifndef NNCL_PROFILING_H
#define NNCL_PROFILING_H
#include "runtime.h"

/* One finished command of a session, its event already read and released. Device times are the
   device's profiling clock in ns (CL_PROFILING_COMMAND_*); host times are ns since the session
   began (nncl__now_ns clock). */
struct prof_timing {
  const char *kernel; /* launch label: kernel or CLBlast routine name, "upload", "copy", ... */
  int node;           /* ctx->current_node at launch; -1 outside a graph node */
  int device;         /* index of the device whose queue ran it (nncl_context_device_at) */
  double queued_ns, submit_ns, start_ns, end_ns;
  double host_enqueue_ns, host_enqueue_dur_ns;
};

/* Sessions cover every device of the context; nncl__prof_end returns their records merged in
   host enqueue order. */
/* Starts a session: drops the records of any earlier one and starts recording.
   NNCL_ERR_STATE when a session is already on. */
nncl_status nncl__prof_begin(nncl_context *ctx);
/* Ends the session: waits for the queue, reads every event's timestamps into a malloc'ed array
   (*out, *count; free() it; NULL and 0 when nothing ran) and releases the events. Recording stops
   even when this fails. */
nncl_status nncl__prof_end(nncl_context *ctx, struct prof_timing **out, size_t *count);
/* True while a session is on. */
bool nncl__prof_active(const nncl_context *ctx);
#endif

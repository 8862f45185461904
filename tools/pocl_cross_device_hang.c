/* pocl_cross_device_hang.c: a reproducer, in plain OpenCL without nncl, of which command pattern
   between two devices of one context hangs PoCL 3.1 when one of them is its `basic` device.
   Not part of the test suite (a hang is what it looks for). Run as
     POCL_DEVICES="pthread basic" build/tools/pocl_cross_device_hang
   Each case runs in a child process with a 20 s alarm and prints ok, HANG or a CL error. The
   cases are the two ways nncl's transfer node moves a tensor (lib/ops/transfer.c), each in both
   directions: a copy on the source queue that the destination queue waits for with a barrier,
   and the host path (read on the source queue, a user event set by the read's callback, the
   destination queue's write waiting for it), plus the two waits they are made of. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BYTES (1u << 20)

struct setup {
  cl_context ctx;
  cl_command_queue q[2]; /* q[0]: the `basic` device's, q[1]: the other's */
  cl_mem buf[2];         /* one buffer per device, each only ever used by its own queue */
  char name[2][128];
  char host[BYTES];
};

#define CHECK(call)                                                                                \
  do {                                                                                             \
    cl_int e_ = (call);                                                                            \
    if (e_ != CL_SUCCESS) {                                                                        \
      printf("CL error %d at %s\n", (int)e_, #call);                                               \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

static void CL_CALLBACK release_user(cl_event ev, cl_int status, void *user) {
  (void)ev;
  clSetUserEventStatus((cl_event)user, status < 0 ? status : CL_COMPLETE);
}

/* Source queue writes its buffer, copies it into the destination's buffer; the destination
   queue waits for the copy with a barrier and reads its buffer back. */
static int copy_path(struct setup *s, int from, int to) {
  cl_event copied;
  CHECK(clEnqueueWriteBuffer(s->q[from], s->buf[from], CL_FALSE, 0, BYTES, s->host, 0, NULL, NULL));
  CHECK(clEnqueueCopyBuffer(s->q[from], s->buf[from], s->buf[to], 0, 0, BYTES, 0, NULL, &copied));
  CHECK(clEnqueueBarrierWithWaitList(s->q[to], 1, &copied, NULL));
  CHECK(clEnqueueReadBuffer(s->q[to], s->buf[to], CL_TRUE, 0, BYTES, s->host, 0, NULL, NULL));
  CHECK(clFinish(s->q[from]));
  return 0;
}

/* Source queue reads its buffer into host memory; the read's callback releases a user event that
   the destination queue's write into its own buffer waits for: no buffer is shared. */
static int host_path(struct setup *s, int from, int to) {
  static char staging[BYTES];
  cl_int err;
  cl_event read, go = clCreateUserEvent(s->ctx, &err);
  CHECK(err);
  CHECK(clEnqueueWriteBuffer(s->q[from], s->buf[from], CL_FALSE, 0, BYTES, s->host, 0, NULL, NULL));
  CHECK(clEnqueueReadBuffer(s->q[from], s->buf[from], CL_FALSE, 0, BYTES, staging, 0, NULL, &read));
  CHECK(clSetEventCallback(read, CL_COMPLETE, release_user, go));
  CHECK(clEnqueueWriteBuffer(s->q[to], s->buf[to], CL_FALSE, 0, BYTES, staging, 1, &go, NULL));
  CHECK(clFinish(s->q[to]));
  CHECK(clFinish(s->q[from]));
  return 0;
}

/* A queue waits for a user event the host sets: no second device involved. */
static int user_event_wait(struct setup *s, int dev) {
  cl_int err;
  cl_event go = clCreateUserEvent(s->ctx, &err);
  CHECK(err);
  CHECK(clEnqueueWriteBuffer(s->q[dev], s->buf[dev], CL_FALSE, 0, BYTES, s->host, 1, &go, NULL));
  CHECK(clFlush(s->q[dev]));
  CHECK(clSetUserEventStatus(go, CL_COMPLETE));
  CHECK(clFinish(s->q[dev]));
  return 0;
}

/* A queue waits (barrier) for a marker of the other device's queue: events only, no data. */
static int marker_wait(struct setup *s, int from, int to) {
  cl_event mark;
  CHECK(clEnqueueWriteBuffer(s->q[from], s->buf[from], CL_FALSE, 0, BYTES, s->host, 0, NULL, NULL));
  CHECK(clEnqueueMarkerWithWaitList(s->q[from], 0, NULL, &mark));
  CHECK(clEnqueueBarrierWithWaitList(s->q[to], 1, &mark, NULL));
  CHECK(clEnqueueWriteBuffer(s->q[to], s->buf[to], CL_FALSE, 0, BYTES, s->host, 0, NULL, NULL));
  CHECK(clFinish(s->q[to]));
  CHECK(clFinish(s->q[from]));
  return 0;
}

/* As marker_wait, but the source queue's work is held back by a user event the host sets 100 ms
   after both queues were flushed, so the marker is still pending when the waiting queue gets to
   its barrier (in the plain case it may have completed already). */
static int late_marker_wait(struct setup *s, int from, int to) {
  cl_int err;
  cl_event go = clCreateUserEvent(s->ctx, &err), mark;
  CHECK(err);
  CHECK(clEnqueueWriteBuffer(s->q[from], s->buf[from], CL_FALSE, 0, BYTES, s->host, 1, &go, NULL));
  CHECK(clEnqueueMarkerWithWaitList(s->q[from], 0, NULL, &mark));
  CHECK(clEnqueueBarrierWithWaitList(s->q[to], 1, &mark, NULL));
  CHECK(clEnqueueWriteBuffer(s->q[to], s->buf[to], CL_FALSE, 0, BYTES, s->host, 0, NULL, NULL));
  CHECK(clFlush(s->q[from]));
  CHECK(clFlush(s->q[to]));
  usleep(100000);
  CHECK(clSetUserEventStatus(go, CL_COMPLETE));
  CHECK(clFinish(s->q[to]));
  CHECK(clFinish(s->q[from]));
  return 0;
}

static int open_setup(struct setup *s) {
  cl_platform_id plat;
  cl_device_id dev[4], pick[2] = {NULL, NULL};
  cl_uint n = 0;
  CHECK(clGetPlatformIDs(1, &plat, NULL));
  CHECK(clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 4, dev, &n));
  for (cl_uint i = 0; i < n; i++) {
    char name[128];
    CHECK(clGetDeviceInfo(dev[i], CL_DEVICE_NAME, sizeof name, name, NULL));
    int slot = strncmp(name, "basic", 5) == 0 ? 0 : 1;
    if (!pick[slot]) {
      pick[slot] = dev[i];
      snprintf(s->name[slot], sizeof s->name[slot], "%s", name);
    }
  }
  if (!pick[0] || !pick[1]) {
    printf("needs a `basic` and another device: POCL_DEVICES=\"pthread basic\"\n");
    return 1;
  }
  cl_int err;
  s->ctx = clCreateContext(NULL, 2, pick, NULL, NULL, &err);
  CHECK(err);
  for (int i = 0; i < 2; i++) {
    s->q[i] = clCreateCommandQueue(s->ctx, pick[i], 0, &err);
    CHECK(err);
    s->buf[i] = clCreateBuffer(s->ctx, CL_MEM_READ_WRITE, BYTES, NULL, &err);
    CHECK(err);
  }
  memset(s->host, 1, BYTES);
  return 0;
}

int main(void) {
  static const char *names[] = {
      "user event wait on basic",
      "user event wait on the other",
      "basic waits for other's marker",
      "other waits for basic's marker",
      "copy path basic -> other",
      "copy path other -> basic",
      "host path basic -> other",
      "host path other -> basic",
      "basic waits for other's late marker",
      "other waits for basic's late marker",
  };
  int hung = 0;
  for (int c = 0; c < 10; c++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      static struct setup s;
      alarm(20);
      if (open_setup(&s)) _exit(2);
      int r = c < 2   ? user_event_wait(&s, c)
              : c < 4 ? marker_wait(&s, c == 2 ? 1 : 0, c == 2 ? 0 : 1)
              : c < 6 ? copy_path(&s, c == 4 ? 0 : 1, c == 4 ? 1 : 0)
              : c < 8 ? host_path(&s, c == 6 ? 0 : 1, c == 6 ? 1 : 0)
                      : late_marker_wait(&s, c == 8 ? 1 : 0, c == 8 ? 0 : 1);
      _exit(r ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    int hang = WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM;
    hung += hang;
    printf("%-38s %s\n", names[c],
           hang                                            ? "HANG (20 s)"
           : WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok"
                                                           : "failed");
  }
  return hung ? 1 : 0;
}

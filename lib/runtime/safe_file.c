/* safe_file.c: opening files named by a model or a user without trusting them: only regular files
   are read (a FIFO or a device would block or never end), opened without blocking before the
   check, and a path can be required to resolve (symbolic links followed) inside a folder. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

nncl_status nncl__open_regular(nncl_context *ctx, const char *path, const char *what, FILE **out,
                               uint64_t *size) {
  *out = NULL;
  /* O_NONBLOCK: opening a FIFO for reading blocks until a writer appears; with it the open
     returns at once and fstat below refuses the FIFO. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return nncl__error(ctx, NNCL_ERR_IO, "%s: cannot open %s: %s", what, path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return nncl__error(ctx, NNCL_ERR_IO, "%s: %s is not a regular file", what, path);
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  FILE *f = fdopen(fd, "rb");
  if (!f) {
    close(fd);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: opening %s", what, path);
  }
  *out = f;
  if (size) *size = (uint64_t)sb.st_size;
  return NNCL_OK;
}

nncl_status nncl__path_inside(nncl_context *ctx, const char *path, const char *dir,
                              const char *what) {
  char *real = realpath(path, NULL);
  if (!real)
    return nncl__error(ctx, NNCL_ERR_IO, "%s: cannot resolve %s: %s", what, path, strerror(errno));
  char *real_dir = realpath(dir, NULL);
  if (!real_dir) {
    free(real);
    return nncl__error(ctx, NNCL_ERR_IO, "%s: cannot resolve folder %s: %s", what, dir,
                       strerror(errno));
  }
  size_t n = strlen(real_dir);
  /* "/" itself contains everything; otherwise the prefix must end at a path separator, so
     /models/a does not contain /models/ab. */
  int inside = strncmp(real, real_dir, n) == 0 && (n == 1 || real[n] == '/');
  nncl_status st = NNCL_OK;
  if (!inside)
    st = nncl__error(ctx, NNCL_ERR_FORMAT, "%s: %s resolves to %s, outside the model's folder %s",
                     what, path, real, real_dir);
  free(real);
  free(real_dir);
  return st;
}

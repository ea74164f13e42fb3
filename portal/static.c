/* Static assets through h2o's file handler, index.html through a handler of
 * its own: the page is kept in memory (re-read when its size or mtime
 * changes) and each response gets a new nonce where __CSP_NONCE__ stands,
 * the same nonce its Content-Security-Policy allows for <style>. */
#include "static.h"

#include "cleanup.h"
#include "headers.h"
#include "log.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NONCE_MARK "__CSP_NONCE__"

struct index_handler {
  h2o_handler_t super;
  char path[300];
  char *page;   /* the file as read */
  size_t len;
  struct timespec mtime;
  off_t size;
};

/* The page, re-read if the file changed; 0 or -errno. */
static int load_index(struct index_handler *ix)
{
  struct stat st;
  if (stat(ix->path, &st) < 0)
    return -errno;
  if (ix->page && st.st_size == ix->size && st.st_mtim.tv_sec == ix->mtime.tv_sec &&
      st.st_mtim.tv_nsec == ix->mtime.tv_nsec)
    return 0;
  _cleanup_close_ int fd = open(ix->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20))
    return -EINVAL;
  _cleanup_free_ char *buf = malloc((size_t) st.st_size + 1);
  if (!buf)
    return -ENOMEM;
  size_t got = 0;
  while (got < (size_t) st.st_size) {
    ssize_t n = read(fd, buf + got, (size_t) st.st_size - got);
    if (n <= 0)
      return n < 0 ? -errno : -EIO;
    got += (size_t) n;
  }
  buf[got] = 0;
  free(ix->page);
  ix->page = steal_ptr(buf);
  ix->len = got;
  ix->size = st.st_size;
  ix->mtime = st.st_mtim;
  return 0;
}

/* 128 random bits, base64. */
static int new_nonce(char out[32])
{
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return -1;
  h2o_base64_encode(out, raw, sizeof raw, 0);
  return 0;
}

static int on_index(h2o_handler_t *self, h2o_req_t *req)
{
  struct index_handler *ix = (struct index_handler *) self;
  if (!h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/")) &&
      !h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/index.html")))
    return -1;
  if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
      !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
    h2o_send_error_generic(req, 405, "Method Not Allowed", "method not allowed", 0);
    return 0;
  }
  int r = load_index(ix);
  if (r < 0) {
    sh_warn("cannot read %s: %s", ix->path, strerror(-r));
    h2o_send_error_404(req, "File Not Found", "not found", 0);
    return 0;
  }
  char nonce[32];
  if (new_nonce(nonce) < 0) {
    h2o_send_error_503(req, "Service Unavailable", "no randomness", 0);
    return 0;
  }
  /* The page with every mark replaced, in the request's pool. */
  size_t nlen = strlen(nonce), mlen = strlen(NONCE_MARK), marks = 0;
  for (const char *p = ix->page; (p = strstr(p, NONCE_MARK)); p += mlen)
    marks++;
  char *out = h2o_mem_alloc_pool(&req->pool, ix->len + marks * nlen + 1), *o = out;
  const char *p = ix->page, *m;
  while ((m = strstr(p, NONCE_MARK))) {
    memcpy(o, p, (size_t) (m - p));
    o += m - p;
    memcpy(o, nonce, nlen);
    o += nlen;
    p = m + mlen;
  }
  size_t rest = ix->len - (size_t) (p - ix->page);
  memcpy(o, p, rest);
  o += rest;
  h2o_iovec_t csp = pt_headers_csp(&req->pool, nonce);
  req->res.status = 200;
  req->res.reason = "OK";
  req->res.content_length = (size_t) (o - out);
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/html; charset=utf-8"));
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
  h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0, NULL, csp.base, csp.len);
  h2o_send_inline(req, out, (size_t) (o - out));
  return 0;
}

void pt_static_register(h2o_pathconf_t *pc, const char *assets)
{
  struct index_handler *ix = (struct index_handler *) h2o_create_handler(pc, sizeof *ix);
  ix->super.on_req = on_index;
  snprintf(ix->path, sizeof ix->path, "%s/index.html", assets);
  struct stat st;
  if (stat(assets, &st) < 0 || !S_ISDIR(st.st_mode))
    sh_warn("assets: %s is not a directory: the UI will answer 404", assets);
  /* No index files: a directory is never listed (403), and index.html
   * only ever comes from the handler above. */
  static const char *no_index[] = { NULL };
  h2o_file_register(pc, assets, no_index, NULL, 0);
}

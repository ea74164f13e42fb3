/* OpenSSL server contexts and the first start's self-signed certificate. */
#include "tls.h"

#include "cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <h2o.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Forward secrecy and AEAD only; TLS 1.3's suites are all of that kind. */
static const char tls12_ciphers[] =
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
  "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
static const char tls13_suites[] = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

static void ssl_ctx_freep(SSL_CTX **c) { SSL_CTX_free(*c); }
static void pkey_freep(EVP_PKEY **k) { EVP_PKEY_free(*k); }
static void x509_freep(X509 **x) { X509_free(*x); }
static void bio_freep(BIO **b) { BIO_free_all(*b); }

/* The first OpenSSL error in the message of *e. */
static int ossl_err(sh_error *e, const char *step, const char *path)
{
  char buf[256] = "";
  unsigned long code = ERR_get_error();
  if (code)
    ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return sh_err(e, EINVAL, step, path, "%s", buf[0] ? buf : "OpenSSL error");
}

int pt_tls_context(const char *cert, const char *key, SSL_CTX **out, sh_error *e)
{
  _cleanup_(ssl_ctx_freep) SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx)
    return ossl_err(e, "make TLS context", cert);
  if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) || !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_cipher_list(ctx, tls12_ciphers) || !SSL_CTX_set_ciphersuites(ctx, tls13_suites) ||
      !SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384"))
    return ossl_err(e, "configure TLS", cert);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
    return ossl_err(e, "load certificate", cert);
  if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
    return ossl_err(e, "load private key", key);
  if (SSL_CTX_check_private_key(ctx) != 1)
    return ossl_err(e, "check that the key matches the certificate", key);
  /* HTTP/1.1 only: h2o 2.2's HTTP/2 answers a body over the limit with
   * RST_STREAM(REFUSED_STREAM), which clients retry, not with a 413; and
   * websockets need HTTP/1.1 anyway (no extended CONNECT in h2o 2.2). */
  static const h2o_iovec_t alpn[] = { { H2O_STRLIT("http/1.1") }, { NULL, 0 } };
  h2o_ssl_register_alpn_protocols(ctx, alpn);
  *out = steal_ptr(ctx);
  return 0;
}

static int add_ext(X509 *x, int nid, const char *value)
{
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
  if (!ext)
    return -1;
  int ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? 0 : -1;
}

static int make_cert(EVP_PKEY *pkey, const char *host, X509 **out)
{
  _cleanup_(x509_freep) X509 *x = X509_new();
  unsigned char serial[16];
  if (!x || RAND_bytes(serial, sizeof serial) != 1)
    return -1;
  serial[0] &= 0x7f;   /* positive */
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  if (!ok || !X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
      !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600) || !X509_set_pubkey(x, pkey))
    return -1;
  X509_NAME *name = X509_get_subject_name(x);
  if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) "localhost", -1, -1, 0) ||
      !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *) "Sandhost portal (self-signed)", -1, -1, 0) ||
      !X509_set_issuer_name(x, name))
    return -1;
  char san[160] = "DNS:localhost,IP:127.0.0.1";
  unsigned char bin[16];
  bool is_ip = inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1;
  if (is_ip && strcmp(host, "127.0.0.1") != 0)
    snprintf(san + strlen(san), sizeof san - strlen(san), ",IP:%s", host);
  if (add_ext(x, NID_subject_alt_name, san) < 0 || add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
      add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 || add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
      !X509_sign(x, pkey, EVP_sha256()))
    return -1;
  *out = steal_ptr(x);
  return 0;
}

/* The file's directory and those above it (/etc/sandhost/portal on a
 * fresh host's first start), 0755 root: only the key itself is private. */
static int make_parent(const char *path, sh_error *e)
{
  char dir[300];
  snprintf(dir, sizeof dir, "%s", path);
  char *last = strrchr(dir, '/');
  if (!last || last == dir)
    return 0;
  *last = 0;
  for (char *p = dir + 1;; p++) {
    if (*p && *p != '/')
      continue;
    char c = *p;
    *p = 0;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
      return sh_errno(e, "create directory", dir);
    if (!(*p = c))
      return 0;
  }
}

/* PEM into a new file of that mode and group, renamed into place whole. */
static int write_pem(const char *path, mode_t mode, gid_t gid, EVP_PKEY *pkey, X509 *x, sh_error *e)
{
  char tmp[300];
  snprintf(tmp, sizeof tmp, "%s.new", path);
  unlink(tmp);
  _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return sh_errno(e, "create", tmp);
  if (fchown(fd, 0, gid) < 0 || fchmod(fd, mode) < 0) {
    int r = sh_errno(e, "set owner and mode", tmp);
    unlink(tmp);
    return r;
  }
  _cleanup_(bio_freep) BIO *b = BIO_new_fd(steal_fd(fd), BIO_CLOSE);
  int ok = b && (pkey ? PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) : PEM_write_bio_X509(b, x)) &&
           BIO_flush(b) == 1;
  if (!ok) {
    unlink(tmp);
    return ossl_err(e, "write", tmp);
  }
  if (rename(tmp, path) < 0) {
    int r = sh_errno(e, "rename into place", path);
    unlink(tmp);
    return r;
  }
  return 0;
}

int pt_tls_ensure(const char *cert, const char *key, const char *host, gid_t gid, int *made, sh_error *e)
{
  *made = 0;
  bool have_cert = access(cert, F_OK) == 0, have_key = access(key, F_OK) == 0;
  if (have_cert && have_key)
    return 0;
  if (have_cert != have_key)
    return sh_err(e, ENOENT, "load certificate", have_cert ? key : cert,
                  "missing while %s exists (give both, or neither for a self-signed pair)", have_cert ? cert : key);
  _cleanup_(pkey_freep) EVP_PKEY *pkey = EVP_EC_gen("P-256");
  if (!pkey)
    return ossl_err(e, "generate an ECDSA P-256 key", key);
  _cleanup_(x509_freep) X509 *x = NULL;
  if (make_cert(pkey, host, &x) < 0)
    return ossl_err(e, "make a self-signed certificate", cert);
  int r = make_parent(key, e);
  if (r == 0)
    r = make_parent(cert, e);
  if (r == 0)
    r = write_pem(key, 0640, gid, pkey, NULL, e);
  if (r < 0)
    return r;
  r = write_pem(cert, 0644, 0, NULL, x, e);
  if (r < 0) {
    unlink(key);
    return r;
  }
  *made = 1;
  return 0;
}

#include "digest.h"

#include <errno.h>
#include <stdio.h>
#include <openssl/evp.h>

int sh_sha256_hex(const void *data, size_t len, char out[65])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
    return -EIO;
  for (unsigned i = 0; i < mdlen; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
  return 0;
}

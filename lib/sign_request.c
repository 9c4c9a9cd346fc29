#include "sign_request.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "authenticode.h"
#include "bytes.h"
#include "port.h" /* strtok_r */

#define MAX_REQUEST (1u << 20)


/* The request's text as it is built (a drv_buf: failed goes sticky, so callers check once at
 * the end). */
typedef drv_buf out_text;
#define put drv_buf_printf

int drv_file_sha256(const drv_file *f, unsigned char out[32], drvsign_diag *diag)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(DRV_IO_CHUNK);
    unsigned len;
    int rc = -1;

    if (ctx == NULL || buf == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
        goto done;
    for (uint64_t off = 0; off < f->size;) {
        size_t n = f->size - off > DRV_IO_CHUNK ? DRV_IO_CHUNK : (size_t)(f->size - off);
        if (drv_file_pread(f, off, buf, n, diag) != 0 || !EVP_DigestUpdate(ctx, buf, n))
            goto done;
        off += n;
    }
    rc = EVP_DigestFinal_ex(ctx, out, &len) ? 0 : -1;
done:
    if (rc != 0 && diag->errors == 0)
        drv_error(diag, f->path, "cannot hash the file");
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}

static void put_hex(out_text *f, const char *key, const unsigned char *d, size_t n)
{
    put(f, "%s=", key);
    for (size_t i = 0; i < n; i++)
        put(f, "%02x", d[i]);
    put(f, "\n");
}

static int put_cert(out_text *f, X509 *x)
{
    unsigned char *der = NULL, *b64;
    int n = i2d_X509(x, &der);
    if (n <= 0)
        return -1;
    b64 = malloc(4 * ((size_t)n / 3 + 1) + 1);
    if (b64 == NULL) {
        OPENSSL_free(der);
        return -1;
    }
    EVP_EncodeBlock(b64, der, n);
    put(f, "certificate=%s\n", b64);
    free(b64);
    OPENSSL_free(der);
    return 0;
}

/* path = dir/<name><suffix>, written in full through a temp file beside it. */
static int write_atomic(const char *dir, const char *name, const char *suffix, const void *data,
                        size_t len, drvsign_diag *diag)
{
    size_t n = strlen(name) + strlen(suffix) + 1;
    char *leaf = malloc(n), *path;
    drv_atomic a;
    int rc = -1;
    if (leaf == NULL)
        return -1;
    snprintf(leaf, n, "%s%s", name, suffix);
    path = drv_path_join(dir, leaf);
    free(leaf);
    if (path == NULL)
        return -1;
    if (drv_atomic_open(&a, path, NULL, diag) == 0) {
        if (drv_atomic_write(&a, data, len, diag) == 0 && drv_atomic_commit(&a, diag) == 0)
            rc = 0;
        drv_atomic_abort(&a);
    }
    free(path);
    return rc;
}

int drv_request_write(const char *dir, const drv_request *r, drvsign_diag *diag)
{
    out_text t = {0}, *f = &t;
    int rc = -1;

    put(f, "drvsign-request=1\nfile=%s\nfile_size=%llu\n", r->file,
        (unsigned long long)r->file_size);
    put_hex(f, "file_sha256", r->file_sha256, 32);
    put(f, "format=%s\ndigest=%s\npage_hashes=%d\nappend=%d\ncontent_type=%s\n", r->format,
        EVP_MD_get_type(r->md) == NID_sha1 ? "sha1" : "sha256", r->page_hashes, r->append,
        r->content_type);
    put_hex(f, "signed_attributes", r->attrs, r->attrs_len);
    put_hex(f, "to_sign", r->to_sign, r->to_sign_len);
    put(f, "key_type=%s\n", EVP_PKEY_is_a(X509_get0_pubkey(r->cert), "EC") ? "EC" : "RSA");
    if (put_cert(f, r->cert) != 0)
        goto done;
    for (int i = 0; i < sk_X509_num(r->extra); i++)
        if (put_cert(f, sk_X509_value(r->extra, i)) != 0)
            goto done;
    if (t.failed)
        goto done;
    /* the digest first: a request without its digest is never left behind as complete */
    if (write_atomic(dir, r->file, ".digest", r->to_sign, r->to_sign_len, diag) != 0 ||
        write_atomic(dir, r->file, ".request", t.p, t.len, diag) != 0)
        goto done;
    rc = 0;
done:
    if (rc != 0 && diag->errors == 0)
        drv_error(diag, dir, "cannot write the request for %s", r->file);
    free(t.p);
    return rc;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode hex into out (at most max bytes); -1 if it is not hex or too long. */
static long from_hex(const char *hex, unsigned char *out, size_t max)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

static X509 *cert_from_base64(const char *b64)
{
    size_t n = strlen(b64);
    unsigned char *der = malloc(n / 4 * 3 + 3);
    const unsigned char *p = der;
    X509 *x = NULL;
    int len;
    if (der == NULL || n % 4 != 0)
        goto done;
    len = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)n);
    if (len < 0)
        goto done;
    /* EVP_DecodeBlock counts the padding as zero bytes; DER says how long it really is */
    x = d2i_X509(NULL, &p, len);
done:
    free(der);
    return x;
}

int drv_request_parse(const unsigned char *text, size_t len, const char *name, const char *where,
                      drv_request *r, drvsign_diag *diag)
{
    char *data = malloc(len + 1), *line, *save = NULL;
    unsigned lineno = 0;
    int version = 0, rc = -1, have_hash = 0;
    long got;

    memset(r, 0, sizeof *r);
    r->extra = sk_X509_new_null();
    if (data == NULL || r->extra == NULL)
        goto done;
    memcpy(data, text, len);
    data[len] = 0;
    if (strlen(data) != len) {
        drv_error(diag, where, "not a drvsign request (it holds a NUL byte)");
        goto done;
    }
    for (line = strtok_r(data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *value = strchr(line, '=');
        int ok = 1;
        lineno++;
        line[strcspn(line, "\r")] = 0;
        if (*line == 0 || *line == '#')
            continue;
        if (value == NULL) {
            drv_error_at(diag, where, lineno, "expected key=value");
            goto done;
        }
        *value++ = 0;
        if (!strcmp(line, "drvsign-request"))
            version = atoi(value);
        else if (!strcmp(line, "file"))
            ok = snprintf(r->file, sizeof r->file, "%s", value) < (int)sizeof r->file;
        else if (!strcmp(line, "file_size"))
            r->file_size = strtoull(value, NULL, 10);
        else if (!strcmp(line, "file_sha256"))
            ok = have_hash = from_hex(value, r->file_sha256, 32) == 32;
        else if (!strcmp(line, "format"))
            ok = snprintf(r->format, sizeof r->format, "%s", value) < (int)sizeof r->format;
        else if (!strcmp(line, "digest"))
            ok = (r->md = !strcmp(value, "sha256") ? EVP_sha256()
                          : !strcmp(value, "sha1") ? EVP_sha1()
                                                   : NULL) != NULL;
        else if (!strcmp(line, "page_hashes"))
            r->page_hashes = atoi(value) != 0;
        else if (!strcmp(line, "append"))
            r->append = atoi(value) != 0;
        else if (!strcmp(line, "content_type"))
            ok = snprintf(r->content_type, sizeof r->content_type, "%s", value) <
                 (int)sizeof r->content_type;
        else if (!strcmp(line, "signed_attributes")) {
            OPENSSL_free(r->attrs);
            r->attrs = OPENSSL_malloc(strlen(value) / 2 + 1);
            got = r->attrs ? from_hex(value, r->attrs, strlen(value) / 2) : -1;
            ok = got > 0;
            r->attrs_len = ok ? (size_t)got : 0;
        } else if (!strcmp(line, "to_sign")) {
            got = from_hex(value, r->to_sign, sizeof r->to_sign);
            ok = got > 0;
            r->to_sign_len = ok ? (size_t)got : 0;
        } else if (!strcmp(line, "key_type"))
            ok = !strcmp(value, "RSA") || !strcmp(value, "EC");
        else if (!strcmp(line, "certificate")) {
            X509 *x = cert_from_base64(value);
            ok = x != NULL;
            if (x != NULL && r->cert == NULL)
                r->cert = x;
            else if (x != NULL && !sk_X509_push(r->extra, x)) {
                X509_free(x);
                ok = 0;
            }
        } else {
            drv_error_at(diag, where, lineno, "unknown key '%s'", line);
            goto done;
        }
        if (!ok) {
            drv_error_at(diag, where, lineno, "the value of %s is not valid", line);
            goto done;
        }
    }
    if (version != 1) {
        drv_error(diag, where, "not a drvsign request (version 1)");
        goto done;
    }
    if (strcmp(r->file, name) != 0 || !have_hash || r->md == NULL || r->content_type[0] == 0 ||
        r->attrs == NULL || r->to_sign_len == 0 || r->cert == NULL) {
        drv_error(diag, where,
                  "the request is incomplete or for another file (it needs file=%s, "
                  "file_sha256, digest, content_type, signed_attributes, to_sign "
                  "and a certificate)",
                  name);
        goto done;
    }
    rc = 0;
done:
    free(data);
    if (rc != 0)
        drv_request_free(r);
    return rc;
}

int drv_request_read(const char *dir, const char *name, drv_request *r, drvsign_diag *diag)
{
    size_t n = strlen(name) + 9;
    char *leaf = malloc(n), *path = NULL;
    unsigned char *data = NULL;
    size_t len;
    int rc = -1;

    memset(r, 0, sizeof *r);
    if (leaf == NULL)
        return -1;
    snprintf(leaf, n, "%s.request", name);
    path = drv_path_join(dir, leaf);
    free(leaf);
    if (path == NULL)
        return -1;
    if (!drv_file_exists(path))
        drv_error(diag, path, "no request for %s: prepare it for signing first", name);
    else if (drv_read_small_file(path, MAX_REQUEST, &data, &len, diag) == 0)
        rc = drv_request_parse(data, len, name, path, r, diag);
    free(data);
    free(path);
    return rc;
}

void drv_request_free(drv_request *r)
{
    OPENSSL_free(r->attrs);
    X509_free(r->cert);
    sk_X509_pop_free(r->extra, X509_free);
    memset(r, 0, sizeof *r);
}

/*
 * The manifest reader (format in manifest.h and the README). Untrusted input: a line is
 * scanned once, with no recursion; memory is linear in the input (1 MiB at most).
 */
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"

#define MANIFEST_MAX_BYTES (1u << 20)
#define FILE_FROM_MAX_BYTES (64u << 10)

int list_add(list *l, const char *s)
{
    char *copy;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **bigger = cap > l->cap ? realloc(l->v, cap * sizeof *bigger) : NULL;
        if (bigger == NULL)
            return -1;
        l->v = bigger;
        l->cap = cap;
    }
    if ((copy = str_copy(s)) == NULL)
        return -1;
    l->v[l->n++] = copy;
    return 0;
}

void list_free(list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

void manifest_free(manifest *m)
{
    char **scalars[] = {&m->path,
                        &m->name,
                        &m->inf,
                        &m->arch,
                        &m->output,
                        &m->work,
                        &m->identity,
                        &m->ca,
                        &m->cab,
                        &m->archive,
                        &m->archive_format,
                        &m->sign_mode,
                        &m->driver_version,
                        &m->driver_date,
                        &m->kmdf,
                        &m->umdf,
                        &m->pfx,
                        &m->cert,
                        &m->key,
                        &m->password_file,
                        &m->pkcs11_module,
                        &m->signer_command,
                        &m->signatures};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        free(*scalars[i]);
        *scalars[i] = NULL;
    }
    list_free(&m->os);
    list_free(&m->files);
    list_free(&m->provides);
    list_free(&m->boot_start);
    list_free(&m->timestamps);
    list_free(&m->add_certs);
    list_free(&m->signer_args);
}

typedef enum kind { SCALAR, LIST, NUMBER, FILE_FROM } kind;

static const struct key {
    const char *name;
    kind kind;
    size_t offset;
} keys[] = {
    {"name", SCALAR, offsetof(manifest, name)},
    {"inf", SCALAR, offsetof(manifest, inf)},
    {"arch", SCALAR, offsetof(manifest, arch)},
    {"output", SCALAR, offsetof(manifest, output)},
    {"work", SCALAR, offsetof(manifest, work)},
    {"identity", SCALAR, offsetof(manifest, identity)},
    {"cab", SCALAR, offsetof(manifest, cab)},
    {"archive", SCALAR, offsetof(manifest, archive)},
    {"archive_format", SCALAR, offsetof(manifest, archive_format)},
    {"sign_mode", SCALAR, offsetof(manifest, sign_mode)},
    {"driver_version", SCALAR, offsetof(manifest, driver_version)},
    {"driver_date", SCALAR, offsetof(manifest, driver_date)},
    {"kmdf_version", SCALAR, offsetof(manifest, kmdf)},
    {"umdf_version", SCALAR, offsetof(manifest, umdf)},
    {"pfx", SCALAR, offsetof(manifest, pfx)},
    {"cert", SCALAR, offsetof(manifest, cert)},
    {"key", SCALAR, offsetof(manifest, key)},
    {"password_file", SCALAR, offsetof(manifest, password_file)},
    {"ca", SCALAR, offsetof(manifest, ca)},
    {"pkcs11_module", SCALAR, offsetof(manifest, pkcs11_module)},
    {"signer_command", SCALAR, offsetof(manifest, signer_command)},
    {"signatures", SCALAR, offsetof(manifest, signatures)},
    {"os", LIST, offsetof(manifest, os)},
    {"file", LIST, offsetof(manifest, files)},
    {"provides", LIST, offsetof(manifest, provides)},
    {"boot_start", LIST, offsetof(manifest, boot_start)},
    {"timestamp_url", LIST, offsetof(manifest, timestamps)},
    {"add_cert", LIST, offsetof(manifest, add_certs)},
    {"signer_arg", LIST, offsetof(manifest, signer_args)},
    {"catalog_version", NUMBER, offsetof(manifest, catalog_version)},
    {"page_hashes", NUMBER, offsetof(manifest, page_hashes)},
    {"file_from", FILE_FROM, offsetof(manifest, files)},
};

/* The quoted value at s (up to end) unescaped in place; NULL with *why set when it is not
 * one quoted string. */
static char *unquote(char *s, char *end, const char **why)
{
    char *out = s, *value = s;
    if (s == end || *s != '"') {
        *why = "expected a quoted value after the key (key \"value\")";
        return NULL;
    }
    for (s++; s < end && *s != '"'; s++) {
        if (*s != '\\') {
            *out++ = *s;
            continue;
        }
        if (++s == end)
            break;
        switch (*s) {
        case '\\':
            *out++ = '\\';
            break;
        case '"':
            *out++ = '"';
            break;
        case 'n':
            *out++ = '\n';
            break;
        case 'r':
            *out++ = '\r';
            break;
        case 't':
            *out++ = '\t';
            break;
        default:
            *why = "unknown escape in the value (the escapes are \\\\, \\\", \\n, \\r and \\t)";
            return NULL;
        }
    }
    if (s >= end) {
        *why = "the value's closing quote is missing";
        return NULL;
    }
    for (s++; s < end; s++)
        if (*s != ' ' && *s != '\t') {
            *why = "text after the value's closing quote";
            return NULL;
        }
    *out = 0;
    return value;
}

static int set_value(manifest *m, const struct key *k, const char *value, unsigned lineno,
                     drvsign_diag *diag)
{
    void *slot = (char *)m + k->offset;
    if (k->kind == SCALAR) {
        char **s = slot;
        free(*s);
        *s = NULL;
        if (*value && (*s = str_copy(value)) == NULL)
            return -1;
    } else if (k->kind == LIST) {
        if (*value && list_add(slot, value) != 0)
            return -1;
    } else if (k->kind == NUMBER) {
        size_t n = strspn(value, "0123456789");
        if (n == 0 || n > 6 || value[n] != 0) {
            drvsign_diag_report(diag, 1, m->path, lineno, "%s is a number, not \"%s\"", k->name,
                                value);
            return 1;
        }
        *(int *)slot = atoi(value);
    } else if (*value) {
        unsigned char *data;
        size_t len;
        char *text;
        if (drvsign_read_file(value, FILE_FROM_MAX_BYTES, &data, &len, diag) != DRVSIGN_OK)
            return 1;
        text = memchr(data, 0, len) == NULL ? malloc(len + 1) : NULL;
        if (text == NULL) {
            drvsign_diag_report(diag, 1, m->path, lineno,
                                "file_from %s holds no path (empty or NUL bytes)", value);
            drvsign_free(data);
            return 1;
        }
        memcpy(text, data, len);
        text[len] = 0;
        drvsign_free(data);
        if (len == 0 || list_add(slot, text) != 0) {
            free(text);
            if (len != 0)
                return -1;
            drvsign_diag_report(diag, 1, m->path, lineno, "file_from %s is empty", value);
            return 1;
        }
        free(text);
    }
    return 0;
}

int manifest_parse(manifest *m, const char *path, const unsigned char *data, size_t len,
                   drvsign_diag *diag)
{
    char *text = NULL, *p, *end;
    unsigned lineno = 0;
    int versioned = 0, rc = 0;

    memset(m, 0, sizeof *m);
    if ((m->path = str_copy(path)) == NULL || (text = malloc(len + 1)) == NULL)
        goto oom;
    if (memchr(data, 0, len) != NULL) {
        drvsign_diag_report(diag, 1, path, 0,
                            "contains a NUL byte: not a drvsign package manifest");
        goto fail;
    }
    memcpy(text, data, len);
    text[len] = 0;
    for (p = text; *p; p = end + (*end != 0)) {
        char *line = p, *line_end, *value;
        const char *why = NULL;
        size_t klen;
        const struct key *k = NULL;

        end = p + strcspn(p, "\n");
        lineno++;
        line_end = end;
        if (line_end > line && line_end[-1] == '\r')
            line_end--; /* CRLF line ends; a CR inside a value is written \r */
        if (line_end == line || *line == '#')
            continue;
        klen = strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789_-");
        if (!versioned) {
            /* the first line that is not a comment: the format version */
            static const char magic[] = "drvsign-manifest ";
            size_t n = sizeof magic - 1, digits;
            if ((size_t)(line_end - line) <= n || memcmp(line, magic, n) != 0) {
                drvsign_diag_report(diag, 1, path, lineno,
                                    "not a drvsign package manifest (it starts with "
                                    "\"drvsign-manifest %d\")",
                                    MANIFEST_FORMAT);
                goto fail;
            }
            digits = strspn(line + n, "0123456789");
            if (digits == 0 || line + n + digits != line_end || digits > 6 ||
                atoi(line + n) != MANIFEST_FORMAT) {
                drvsign_diag_report(
                    diag, 1, path, lineno,
                    "manifest format \"%.*s\", but this drvsign reads format %d: the "
                    "DrvSign module that wrote it is from another drvsign version than "
                    "this helper (use the module installed with it, then reconfigure)",
                    (int)(line_end - line - n) > 32 ? 32 : (int)(line_end - line - n), line + n,
                    MANIFEST_FORMAT);
                goto fail;
            }
            versioned = 1;
            continue;
        }
        for (size_t i = 0; i < sizeof keys / sizeof keys[0] && k == NULL; i++)
            if (strlen(keys[i].name) == klen && memcmp(keys[i].name, line, klen) == 0)
                k = &keys[i];
        if (k == NULL) {
            drvsign_diag_report(diag, 1, path, lineno, "unknown key \"%.*s\"",
                                klen ? (int)(klen > 64 ? 64 : klen) : 0, line);
            rc = -1;
            continue;
        }
        if (line[klen] != ' ' && line[klen] != '\t') {
            drvsign_diag_report(diag, 1, path, lineno,
                                "expected a space and a quoted value after %s", k->name);
            rc = -1;
            continue;
        }
        value = line + klen;
        while (value < line_end && (*value == ' ' || *value == '\t'))
            value++;
        if ((value = unquote(value, line_end, &why)) == NULL) {
            drvsign_diag_report(diag, 1, path, lineno, "%s: %s", k->name, why);
            rc = -1;
            continue;
        }
        switch (set_value(m, k, value, lineno, diag)) {
        case 0:
            break;
        case 1:
            rc = -1;
            break;
        default:
            goto oom;
        }
    }
    if (!versioned) {
        drvsign_diag_report(diag, 1, path, 0, "empty: not a drvsign package manifest");
        goto fail;
    }
    if (rc == 0 && (m->name == NULL || m->inf == NULL || m->output == NULL || m->work == NULL)) {
        drvsign_diag_report(diag, 1, path, 0, "the manifest needs name, inf, output and work");
        goto fail;
    }
    if (rc == 0 && m->sign_mode == NULL && (m->sign_mode = str_copy("test")) == NULL)
        goto oom;
    if (rc == 0 && strcmp(m->sign_mode, "off") != 0 && strcmp(m->sign_mode, "test") != 0 &&
        strcmp(m->sign_mode, "production") != 0) {
        drvsign_diag_report(diag, 1, path, 0, "sign_mode is off, test or production, not '%s'",
                            m->sign_mode);
        goto fail;
    }
    if (rc != 0)
        goto fail;
    free(text);
    return 0;
oom:
    drvsign_diag_report(diag, 1, path, 0, "out of memory");
fail:
    free(text);
    manifest_free(m);
    return -1;
}

int manifest_load(manifest *m, const char *path, drvsign_diag *diag)
{
    unsigned char *data;
    size_t len;
    int rc;
    memset(m, 0, sizeof *m);
    if (drvsign_read_file(path, MANIFEST_MAX_BYTES, &data, &len, diag) != DRVSIGN_OK)
        return -1;
    rc = manifest_parse(m, path, data, len, diag);
    drvsign_free(data);
    return rc;
}

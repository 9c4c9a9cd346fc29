#include "signer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "params.h"

static void split_into(list *l, const char *csv)
{
    char *copy = csv ? str_copy(csv) : NULL, *save = NULL, *tok;
    for (tok = copy ? strtok_r(copy, ";,", &save) : NULL; tok != NULL;
         tok = strtok_r(NULL, ";,", &save))
        list_add(l, tok);
    free(copy);
}

void holder_free(holder *h)
{
    list_free(&h->strings);
    list_free(&h->add_certs);
    list_free(&h->timestamps);
}

/* The signer: the build tree's test identity, or production credentials from the environment
 * (at build or install time) or the manifest (CMake cache variables). */
int signer_params(const manifest *m, int production_keys, drvsign_params *p, holder *h,
                  drvsign_diag *diag)
{
    list *keep = &h->strings;
    const char *env;
    if (!production_keys) {
        char *pfx;
        if (m->identity == NULL) {
            drvsign_diag_report(diag, 1, m->path, 0,
                                "test signing needs the manifest's identity directory");
            return -1;
        }
        pfx = path_join(m->identity, "signing.pfx");
        if (pfx == NULL || list_add(keep, pfx) != 0) {
            free(pfx);
            return -1;
        }
        p->pfx = keep->v[keep->n - 1];
        free(pfx);
    } else {
        p->pfx = (env = getenv("DRVSIGN_PFX")) && *env ? env : m->pfx;
        p->cert = (env = getenv("DRVSIGN_CERT")) && *env ? env : m->cert;
        p->key = (env = getenv("DRVSIGN_KEY")) && *env ? env : m->key;
        p->password_file = (env = getenv("DRVSIGN_PASSWORD_FILE")) && *env ? env : m->password_file;
        p->pkcs11_module = (env = getenv("DRVSIGN_PKCS11_MODULE")) && *env ? env : m->pkcs11_module;
        /* the environment's command is one string; the cache's is a CMake list, word by word */
        p->signer_command =
            (env = getenv("DRVSIGN_SIGNER_COMMAND")) && *env ? env : m->signer_command;
        if (p->signer_command == NULL && m->signer_args.n > 0) {
            p->signer_argv = (const char *const *)m->signer_args.v;
            p->signer_argc = m->signer_args.n;
        }
        if (getenv("DRVSIGN_PASSWORD") != NULL)
            p->password_env = "DRVSIGN_PASSWORD";
        /* the environment overrides the cache: one identity is taken, the first complete one */
        if (p->pfx != NULL) {
            p->cert = p->key = p->signer_command = NULL;
            p->signer_argc = 0;
        } else if (p->signer_command != NULL || p->signer_argc > 0)
            p->key = NULL; /* the command holds the key */
        if (p->password_env != NULL && p->password_file != NULL)
            p->password_env = NULL;
    }
    for (size_t i = 0; i < m->add_certs.n; i++)
        list_add(&h->add_certs, m->add_certs.v[i]);
    split_into(&h->add_certs, getenv("DRVSIGN_ADD_CERTS"));
    for (size_t i = 0; i < m->timestamps.n; i++)
        list_add(&h->timestamps, m->timestamps.v[i]);
    split_into(&h->timestamps, getenv("DRVSIGN_TIMESTAMP_URLS"));
    p->add_certs = (const char **)h->add_certs.v;
    p->add_cert_count = h->add_certs.n;
    p->timestamp_urls = (const char *const *)h->timestamps.v;
    p->timestamp_url_count = h->timestamps.n;
    p->timestamp_wait = -1;
    p->quiet = 1;
    /* the library's validator, in the CMake names (pipeline_param_name) */
    return drvsign_check_params(DRVSIGN_OP_SIGN, p, 1, diag) == DRVSIGN_OK ? 0 : -1;
}

int signing(const manifest *m)
{
    return strcmp(m->sign_mode, "off") != 0;
}

int production(const manifest *m)
{
    return strcmp(m->sign_mode, "production") == 0;
}

int is_boot_start(const manifest *m, const char *name)
{
    for (size_t i = 0; i < m->boot_start.n; i++)
        if (drvsign_same_name(base_name(m->boot_start.v[i]), name))
            return 1;
    return 0;
}

/* The first error line of a diagnostics sink, kept rather than printed. */
typedef struct first_error {
    char line[512];
} first_error;

static void keep_first_error(void *ctx, int is_error, const char *line)
{
    first_error *f = ctx;
    if (is_error && f->line[0] == 0)
        snprintf(f->line, sizeof f->line, "%s", line);
}

/* Whether path names anything: a stored signature that cannot be read is still tried (and
 * its failure said) rather than quietly signed over. */
static int exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f != NULL)
        fclose(f);
    return f != NULL || errno != ENOENT;
}

/* SIGNATURES/<rel>.p7, where rel is the file's path in the package (or the cabinet's name). */
static char *stored_signature(const manifest *m, const char *rel)
{
    size_t n = strlen(rel) + 4;
    char *leaf = malloc(n), *path;
    if (leaf == NULL)
        return NULL;
    snprintf(leaf, n, "%s.p7", rel);
    path = path_join(m->signatures, leaf);
    free(leaf);
    return path;
}

/*
 * Sign source into dest. With SIGNATURES, a stored signature that signs this very content is
 * attached instead, so a rebuild needs no key; otherwise the file is signed and its signature
 * stored for the next build.
 */
int sign_file(const manifest *m, int production_keys, const char *source, const char *dest,
              const char *rel, int page_hashes, drvsign_diag *diag)
{
    char *stored = m->signatures ? stored_signature(m, rel) : NULL;
    drvsign_params p = {0};
    holder keep = {0};
    int rc = -1;

    if (m->signatures != NULL && stored == NULL)
        return -1;
    if (stored != NULL && exists(stored)) {
        first_error why = {{0}};
        drvsign_diag quiet = {
            .emit = keep_first_error, .ctx = &why, .quiet = 1, .param_name = pipeline_param_name};
        drvsign_params a = {0};
        a.signature = stored;
        a.out = dest;
        a.quiet = 1;
        if (drvsign_attach(&a, source, &quiet) == DRVSIGN_OK) {
            free(stored);
            return 0;
        }
        drvsign_diag_report(diag, 0, stored, 0,
                            "this stored signature does not sign %s as built now (%s); "
                            "signing it again",
                            rel, why.line);
    }
    if (signer_params(m, production_keys, &p, &keep, diag) == 0) {
        p.out = dest;
        p.page_hashes = page_hashes;
        rc = drvsign_sign(&p, &source, 1, diag) == DRVSIGN_OK ? 0 : -1;
    } else if (stored != NULL)
        drvsign_diag_report(diag, 1, stored, 0,
                            "no stored signature matches %s as built now, so it must be signed, "
                            "with the credentials named above (or commit a signature made for "
                            "this build)",
                            rel);
    holder_free(&keep);
    if (rc == 0 && stored != NULL) {
        drvsign_params x = {0};
        x.out = stored;
        rc = make_parent_dirs(stored, diag) == 0 && drvsign_extract(&x, dest, diag) == DRVSIGN_OK
                 ? 0
                 : -1;
    }
    free(stored);
    return rc;
}

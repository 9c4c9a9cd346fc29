/*
 * The external-signer key backend: the key lives wherever a command can reach it (a cloud KMS
 * CLI, a signing service's client, openssl pkeyutl over an HSM). drvsign runs the command
 * directly, never through a shell, hands it only the digest to sign (raw on stdin; algorithm,
 * hex and base64 in the environment, with the signed attributes it was made from for CLIs that
 * hash their input themselves) and takes the raw signature from its stdout. keys.c
 * checks that signature against the certificate before anything uses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "cmdline.h"
#include "keys.h"
#include "port.h"

#define DEFAULT_TIMEOUT 60
#define MAX_SIGNATURE_OUT 16384

typedef struct command_state {
    drv_strlist argv; /* .v is NULL-terminated, as drv_run takes it */
    unsigned timeout;
} command_state;

static int command_claims(const drv_key_spec *p)
{
    return p->command != NULL || p->command_argc > 0;
}

static void command_free(void *state)
{
    command_state *c = state;
    if (c == NULL)
        return;
    drv_strlist_free(&c->argv);
    free(c);
}

static int command_load(drv_signer *s, const drv_key_spec *p, const char *secret,
                        drvsign_diag *diag)
{
    command_state *c;
    (void)secret;
    if (p->pfx != NULL || p->key != NULL) {
        drv_error(diag, NULL,
                  "the signer command holds the key: give it the certificate chain, and "
                  "no PKCS#12 file or private key");
        return -1;
    }
    if (p->cert == NULL || strncmp(p->cert, "pkcs11:", 7) == 0) {
        drv_error(diag, NULL,
                  "the signer command needs the certificate chain as a PEM or DER "
                  "file");
        return -1;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    s->state = c;
    c->timeout = p->command_timeout > 0 ? (unsigned)p->command_timeout : DEFAULT_TIMEOUT;
    if (p->command_argc > 0) {
        for (size_t i = 0; i < p->command_argc; i++)
            if (drv_strlist_add(&c->argv, p->command_argv[i]) != 0)
                return -1;
    } else {
        const char *problem;
        if (drv_split_command(p->command, &c->argv, &problem) != 0) {
            drv_error(diag, NULL, "cannot read the signer command: %s", problem);
            return -1;
        }
    }
    return drv_load_chain_no_key(s, p->cert, diag);
}

static int command_sign(const drv_signer *s, const EVP_MD *md, const unsigned char *digest,
                        size_t digest_len, const unsigned char *data, size_t data_len,
                        unsigned char **sig, size_t *sig_len, const char *where, drvsign_diag *diag)
{
    const command_state *c = s->state;
    char alg[64], hex[2 * EVP_MAX_MD_SIZE + 32], b64[4 * EVP_MAX_MD_SIZE + 32], type[32];
    char *file = NULL, *attrs = NULL;
    const char *env[7];
    unsigned char *out = NULL;
    size_t out_len = 0;
    drv_run_result res;
    EVP_PKEY *pub = X509_get0_pubkey(s->cert);
    int n, rc = -1;

    *sig = NULL;
    *sig_len = 0;
    if (digest_len > EVP_MAX_MD_SIZE || pub == NULL)
        return -1;
    /* "SHA256" -> "sha256", as --digest spells it */
    snprintf(alg, sizeof alg, "DRVSIGN_DIGEST_ALGORITHM=%s", OBJ_nid2sn(EVP_MD_get_type(md)));
    drv_str_lower(alg + 25);
    strcpy(hex, "DRVSIGN_DIGEST_HEX=");
    if (!OPENSSL_buf2hexstr_ex(hex + strlen(hex), sizeof hex - strlen(hex), NULL, digest,
                               digest_len, '\0'))
        return -1;
    drv_str_lower(hex + 19); /* lower case, as sha256sum prints it */
    strcpy(b64, "DRVSIGN_DIGEST_BASE64=");
    n = EVP_EncodeBlock((unsigned char *)b64 + strlen(b64), digest, (int)digest_len);
    if (n < 0)
        return -1;
    snprintf(type, sizeof type, "DRVSIGN_KEY_TYPE=%s", EVP_PKEY_is_a(pub, "EC") ? "EC" : "RSA");
    if (where != NULL) {
        size_t len = strlen(where) + 16;
        file = malloc(len);
        if (file == NULL)
            return -1;
        snprintf(file, len, "DRVSIGN_FILE=%s", where);
    }
    if (data != NULL && data_len <= 8192) {
        /* for CLIs that only sign data they hash themselves (gcloud kms asymmetric-sign) */
        attrs = malloc(4 * (data_len / 3 + 1) + 40);
        if (attrs == NULL)
            goto done;
        strcpy(attrs, "DRVSIGN_SIGNED_ATTRS_BASE64=");
        EVP_EncodeBlock((unsigned char *)attrs + strlen(attrs), data, (int)data_len);
    }
    env[0] = alg;
    env[1] = hex;
    env[2] = b64;
    env[3] = type;
    env[4] = file != NULL ? file : attrs;
    env[5] = file != NULL ? attrs : NULL;
    env[6] = NULL;
    if (drv_run((const char *const *)c->argv.v, env, digest, digest_len, c->timeout,
                MAX_SIGNATURE_OUT, &out, &out_len, &res, where, diag) != 0)
        goto done;
    if (res.timed_out)
        drv_error(diag, where,
                  "the signer command '%s' did not finish within %u s "
                  "(its timeout), so drvsign stopped it",
                  c->argv.v[0], c->timeout);
    else if (res.interrupted)
        drv_error(diag, where, "interrupted (signal %d) while the signer command '%s' ran",
                  res.interrupted, c->argv.v[0]);
    else if (res.too_much)
        drv_error(diag, where,
                  "the signer command '%s' wrote more than %d bytes; a raw "
                  "signature is a few hundred",
                  c->argv.v[0], MAX_SIGNATURE_OUT);
    else if (!res.exited)
        drv_error(diag, where, "the signer command '%s' was killed by signal %d", c->argv.v[0],
                  res.signal);
    else if (res.exit_code != 0)
        drv_error(diag, where, "the signer command '%s' failed (exit status %d)%s", c->argv.v[0],
                  res.exit_code, res.exit_code == 127 ? "" : "; its own messages are above");
    else {
        *sig = OPENSSL_malloc(out_len ? out_len : 1);
        if (*sig == NULL)
            goto done;
        memcpy(*sig, out, out_len);
        *sig_len = out_len;
        rc = 0;
    }
done:
    free(out);
    free(file);
    free(attrs);
    return rc;
}

const drv_key_backend drv_key_backend_command = {"command", "the signer command", command_claims,
                                                 command_load, command_sign, command_free};

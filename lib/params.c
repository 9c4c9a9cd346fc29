/*
 * The parameter model's one validator. Every value and every combination of drvsign_params is
 * checked here and nowhere else, so the command line and the CMake module reject the same
 * things in the same words, each in its own names for the parameters (drv_param).
 */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "archive_writer.h"
#include "driverver.h"
#include "ostable.h"
#include "text.h"

#define OP(x) (1u << (x))
#define SIGNERS (OP(DRVSIGN_OP_SIGN) | OP(DRVSIGN_OP_CAB))
#define STAMPERS (SIGNERS | OP(DRVSIGN_OP_TIMESTAMP) | OP(DRVSIGN_OP_ATTACH))
#define TIMED                                                                                      \
    (OP(DRVSIGN_OP_VERIFY) | OP(DRVSIGN_OP_CATALOG) | OP(DRVSIGN_OP_CAB) | OP(DRVSIGN_OP_ARCHIVE))
#define ONE_FILE_OUT                                                                               \
    (OP(DRVSIGN_OP_SIGN) | OP(DRVSIGN_OP_TIMESTAMP) | OP(DRVSIGN_OP_REMOVE) | OP(DRVSIGN_OP_ATTACH))

static const char *const op_names[] = {"sign",     "extract", "remove",  "attach",  "timestamp",
                                       "verify",   "catalog", "cab",     "archive", "inspect",
                                       "testcert", "plan",    "stampinf"};

static int is_one_of(const char *value, const char *const *allowed)
{
    for (; *allowed != NULL; allowed++)
        if (strcmp(value, *allowed) == 0)
            return 1;
    return 0;
}

/* A number in [min, max]; 0 (and, for wait, any negative) is the documented default and
 * always passes. */
static void check_range(drvsign_diag *diag, drvsign_param id, long long value, long long min,
                        long long max, const char *what)
{
    if (value != 0 && (value < min || value > max))
        drv_error(diag, NULL, "%s takes %s from %lld to %lld, not '%lld'", drv_param(diag, id),
                  what, min, max, value);
}

/* The files an operation is given. */
static void check_operands(drvsign_operation op, const drvsign_params *p, size_t count,
                           drvsign_diag *diag)
{
    const char *name = op_names[op];
    switch (op) {
    case DRVSIGN_OP_SIGN:
    case DRVSIGN_OP_TIMESTAMP:
    case DRVSIGN_OP_REMOVE:
    case DRVSIGN_OP_INSPECT:
        if (count == 0)
            drv_error(diag, NULL, "%s needs at least one file", name);
        break;
    case DRVSIGN_OP_EXTRACT:
    case DRVSIGN_OP_ATTACH:
        if (count != 1)
            drv_error(diag, NULL, "%s takes exactly one file, not %zu", name, count);
        break;
    case DRVSIGN_OP_VERIFY:
        if (p->package != NULL && (count > 0 || p->catalog != NULL))
            drv_error(diag, NULL, "%s checks a whole directory: give no files or %s",
                      drv_param(diag, DRVSIGN_PARAM_PACKAGE),
                      drv_param(diag, DRVSIGN_PARAM_CATALOG));
        else if (count == 0 && p->package == NULL)
            drv_error(diag, NULL, "verify needs at least one file, or %s",
                      drv_param(diag, DRVSIGN_PARAM_PACKAGE));
        break;
    case DRVSIGN_OP_CATALOG:
        if ((p->driver_dir != NULL) == (count > 0))
            drv_error(
                diag, NULL, "give either %s (a package directory) or %s (the files to catalog)",
                drv_param(diag, DRVSIGN_PARAM_DRIVER_DIR), drv_param(diag, DRVSIGN_PARAM_FILES));
        break;
    case DRVSIGN_OP_CAB:
    case DRVSIGN_OP_ARCHIVE:
        if (count == 0)
            drv_error(diag, NULL, "%s needs at least one package directory", name);
        break;
    case DRVSIGN_OP_TESTCERT:
        if (count == 0)
            drv_error(diag, NULL, "testcert needs %s, the directory for the new identity",
                      drv_param(diag, DRVSIGN_PARAM_OUT));
        break;
    case DRVSIGN_OP_PLAN:
        if (count != 1)
            drv_error(diag, NULL, "plan takes exactly one INF, not %zu", count);
        break;
    case DRVSIGN_OP_STAMPINF:
        if (count != 1)
            drv_error(diag, NULL, "stampinf takes exactly one INF, not %zu", count);
        break;
    }
    if ((OP(op) & ONE_FILE_OUT) && p->out != NULL && count > 1)
        drv_error(diag, NULL, "%s takes exactly one input file, not %zu",
                  drv_param(diag, DRVSIGN_PARAM_OUT), count);
}

/* What an operation cannot go without. */
static void check_required(drvsign_operation op, const drvsign_params *p, drvsign_diag *diag)
{
    switch (op) {
    case DRVSIGN_OP_EXTRACT:
        if (p->out == NULL)
            drv_error(diag, NULL, "extract needs %s, the file to write the signature to",
                      drv_param(diag, DRVSIGN_PARAM_OUT));
        break;
    case DRVSIGN_OP_ATTACH:
        if (p->signature == NULL)
            drv_error(diag, NULL, "attach needs %s, the signature (PKCS#7, DER) to attach",
                      drv_param(diag, DRVSIGN_PARAM_SIGNATURE));
        break;
    case DRVSIGN_OP_TIMESTAMP:
        if (p->timestamp_url_count == 0 && p->timestamp_legacy_count == 0)
            drv_error(diag, NULL, "give the timestamp server: %s or %s",
                      drv_param(diag, DRVSIGN_PARAM_TIMESTAMP_URLS),
                      drv_param(diag, DRVSIGN_PARAM_TIMESTAMP_LEGACY_URLS));
        break;
    case DRVSIGN_OP_CATALOG:
        if (p->driver_dir != NULL && p->os_list_count == 0)
            drv_error(diag, NULL, "%s needs %s, the Inf2Cat OS ids (for example 10_X64)",
                      drv_param(diag, DRVSIGN_PARAM_DRIVER_DIR),
                      drv_param(diag, DRVSIGN_PARAM_OS_LISTS));
        if (p->driver_dir == NULL && p->out == NULL)
            drv_error(diag, NULL, "%s needs %s, the catalog to write",
                      drv_param(diag, DRVSIGN_PARAM_FILES), drv_param(diag, DRVSIGN_PARAM_OUT));
        break;
    case DRVSIGN_OP_PLAN:
        if (p->os_list_count == 0)
            drv_error(diag, NULL, "plan needs %s, the Inf2Cat OS ids (for example 10_X64)",
                      drv_param(diag, DRVSIGN_PARAM_OS_LISTS));
        break;
    case DRVSIGN_OP_CAB:
        if (p->out == NULL)
            drv_error(diag, NULL, "cab needs %s, the cabinet to write",
                      drv_param(diag, DRVSIGN_PARAM_OUT));
        break;
    case DRVSIGN_OP_ARCHIVE:
        if (p->archive_format == NULL)
            drv_error(diag, NULL, "archive needs %s: zip, tar.gz, tar.xz or 7z",
                      drv_param(diag, DRVSIGN_PARAM_ARCHIVE_FORMAT));
        if (p->out == NULL)
            drv_error(diag, NULL, "archive needs %s, the archive to write",
                      drv_param(diag, DRVSIGN_PARAM_OUT));
        break;
    default:
        break;
    }
}

/* The signer options name one identity: a PFX, or a certificate with its key, or a certificate
 * chain whose key is elsewhere (an external signer, detached signing). sign cannot go without
 * one (unless it completes prepared requests); cab signs only when given one. */
static void check_signer(drvsign_operation op, const drvsign_params *p, drvsign_diag *diag)
{
    const char *pfx = drv_param(diag, DRVSIGN_PARAM_PFX);
    const char *cert = drv_param(diag, DRVSIGN_PARAM_CERT);
    const char *key = drv_param(diag, DRVSIGN_PARAM_KEY);
    const char *command = drv_param(diag, DRVSIGN_PARAM_SIGNER_COMMAND);
    int external = p->signer_command != NULL || p->signer_argc > 0;
    int key_elsewhere = external || (op == DRVSIGN_OP_SIGN && p->prepare_dir != NULL);

    if (p->pfx != NULL && (p->cert != NULL || p->key != NULL))
        drv_error(diag, NULL, "%s and %s/%s exclude each other: give one identity", pfx, cert, key);
    if (external && (p->pfx != NULL || p->key != NULL))
        drv_error(diag, NULL, "%s holds the key: give it %s (the certificate chain), not %s or %s",
                  command, cert, pfx, key);
    else if (external && p->cert == NULL)
        drv_error(diag, NULL, "%s needs %s: the certificates of the key it holds", command, cert);
    else if (key_elsewhere && !external && p->cert == NULL)
        drv_error(diag, NULL, "%s needs %s: the certificates of the key that will sign",
                  drv_param(diag, DRVSIGN_PARAM_PREPARE_DIR), cert);
    else if (!key_elsewhere && p->pfx == NULL && (p->cert != NULL) != (p->key != NULL))
        drv_error(diag, NULL, "%s needs %s as well", p->cert ? cert : key, p->cert ? key : cert);
    else if (op == DRVSIGN_OP_SIGN && p->requests_dir == NULL && p->pfx == NULL && p->cert == NULL)
        drv_error(diag, NULL, "sign needs a signing identity: %s, or %s and %s, or %s and %s", pfx,
                  cert, key, cert, command);
    if (op != DRVSIGN_OP_SIGN)
        return;
    if ((p->requests_dir != NULL) != (p->signatures_dir != NULL) ||
        (p->prepare_dir != NULL && p->requests_dir != NULL))
        drv_error(diag, NULL, "detached signing either prepares (%s), or completes from %s and %s",
                  drv_param(diag, DRVSIGN_PARAM_PREPARE_DIR),
                  drv_param(diag, DRVSIGN_PARAM_REQUESTS_DIR),
                  drv_param(diag, DRVSIGN_PARAM_SIGNATURES_DIR));
    if (p->prepare_dir != NULL && (p->timestamp_url_count > 0 || p->timestamp_legacy_count > 0))
        drv_error(diag, NULL,
                  "timestamps come after the signature: ask for them when "
                  "completing, not when preparing");
}

static void check_timestamps(const drvsign_params *p, drvsign_diag *diag)
{
    static const char *const digests[] = {"sha256", "sha384", "sha512", "sha1", NULL};
    const char *urls = drv_param(diag, DRVSIGN_PARAM_TIMESTAMP_URLS);
    const char *legacy = drv_param(diag, DRVSIGN_PARAM_TIMESTAMP_LEGACY_URLS);

    if (p->timestamp_url_count > 0 && p->timestamp_legacy_count > 0)
        drv_error(diag, NULL,
                  "%s (RFC 3161) and %s exclude each other, as signtool's /tr and /t do", urls,
                  legacy);
    for (size_t i = 0; i < p->timestamp_url_count + p->timestamp_legacy_count; i++) {
        int is_legacy = i >= p->timestamp_url_count;
        const char *url =
            is_legacy ? p->timestamp_legacy_urls[i - p->timestamp_url_count] : p->timestamp_urls[i];
        if (drv_strncasecmp(url, "http://", 7) != 0 && drv_strncasecmp(url, "https://", 8) != 0)
            drv_error(diag, NULL, "%s is an http:// or https:// URL, not '%s'",
                      is_legacy ? legacy : urls, url);
    }
    if (p->timestamp_digest != NULL && !is_one_of(p->timestamp_digest, digests))
        drv_error(diag, NULL, "%s takes sha256, sha384, sha512 or sha1, not '%s'",
                  drv_param(diag, DRVSIGN_PARAM_TIMESTAMP_DIGEST), p->timestamp_digest);
    check_range(diag, DRVSIGN_PARAM_TIMESTAMP_RETRIES, p->timestamp_retries, 1, 3600,
                "a number of rounds");
    if (p->timestamp_wait > 3600)
        check_range(diag, DRVSIGN_PARAM_TIMESTAMP_WAIT, p->timestamp_wait, 0, 3600,
                    "a number of seconds");
    check_range(diag, DRVSIGN_PARAM_TIMESTAMP_TIMEOUT, p->timestamp_timeout, 1, 3600,
                "a number of seconds");
}

/* StampInf's values: what it writes into DriverVer and the KMDF/UMDF directives */
static void check_stamp_values(const drvsign_params *p, drvsign_diag *diag)
{
    if (p->driver_version != NULL && !drv_dotted_numbers(p->driver_version, 1, 4))
        drv_error(diag, NULL, "%s is a version w.x.y.z (each 0 to 65535), not '%s'",
                  drv_param(diag, DRVSIGN_PARAM_DRIVER_VERSION), p->driver_version);
    /* the rule DriverVer's date is checked by when the stamped INF is catalogued, so that a
     * date it would refuse is refused before the build */
    if (p->driver_date != NULL && !drv_driver_date(p->driver_date, NULL))
        drv_error(diag, NULL, "%s is a date mm/dd/yyyy from 1980 on, not '%s'",
                  drv_param(diag, DRVSIGN_PARAM_DRIVER_DATE), p->driver_date);
    if (p->kmdf_version != NULL && !drv_dotted_numbers(p->kmdf_version, 2, 2))
        drv_error(diag, NULL, "%s is a KMDF version x.y (for example 1.15), not '%s'",
                  drv_param(diag, DRVSIGN_PARAM_KMDF_VERSION), p->kmdf_version);
    if (p->umdf_version != NULL && !drv_dotted_numbers(p->umdf_version, 2, 3))
        drv_error(diag, NULL, "%s is a UMDF version x.y.z (for example 2.15.0), not '%s'",
                  drv_param(diag, DRVSIGN_PARAM_UMDF_VERSION), p->umdf_version);
}

static void check_values(drvsign_operation op, const drvsign_params *p, drvsign_diag *diag)
{
    static const char *const digests[] = {"sha256", "sha1", NULL};
    static const char *const compressions[] = {"mszip", "none", NULL};

    if ((OP(op) & SIGNERS) && p->digest != NULL && !is_one_of(p->digest, digests))
        drv_error(diag, NULL, "%s takes sha256 or sha1, not '%s'",
                  drv_param(diag, DRVSIGN_PARAM_DIGEST), p->digest);
    if (OP(op) & SIGNERS)
        check_range(diag, DRVSIGN_PARAM_SIGNER_TIMEOUT, p->signer_timeout, 1, 86400,
                    "a number of seconds");
    if (OP(op) & STAMPERS)
        check_timestamps(p, diag);
    if (OP(op) & TIMED)
        check_range(diag, DRVSIGN_PARAM_TIME, p->time, 1, (long long)1 << 40, "seconds since 1970");
    if (op == DRVSIGN_OP_CATALOG && p->catalog_version != 0 && p->catalog_version != 1 &&
        p->catalog_version != 2)
        drv_error(diag, NULL, "%s is 1 or 2, not '%d'",
                  drv_param(diag, DRVSIGN_PARAM_CATALOG_VERSION), p->catalog_version);
    if ((op == DRVSIGN_OP_CATALOG || op == DRVSIGN_OP_VERIFY || op == DRVSIGN_OP_PLAN) &&
        p->os_list_count > 0) {
        const drv_os **os = NULL;
        size_t n = 0;
        /* each unknown id is its own line; the list itself is parsed again where it is used */
        drv_parse_os_list(p->os_lists, p->os_list_count, &os, &n, diag);
        free(os);
    }
    if (op == DRVSIGN_OP_CAB && p->compression != NULL && !is_one_of(p->compression, compressions))
        drv_error(diag, NULL, "%s is mszip or none, not '%s'",
                  drv_param(diag, DRVSIGN_PARAM_COMPRESSION), p->compression);
    if (op == DRVSIGN_OP_ARCHIVE && p->archive_format != NULL &&
        !drv_archive_format_ok(p->archive_format))
        drv_error(diag, NULL, "%s is zip, tar.gz, tar.xz or 7z, not '%s'%s",
                  drv_param(diag, DRVSIGN_PARAM_ARCHIVE_FORMAT), p->archive_format,
                  drv_archive_format_ok("zip") ? "" : " (built without libarchive)");
    if (op == DRVSIGN_OP_TESTCERT)
        check_range(diag, DRVSIGN_PARAM_DAYS, p->days, 1, 36500, "a number of days");
    if (op == DRVSIGN_OP_STAMPINF)
        check_stamp_values(p, diag);
}

drvsign_status drvsign_check_params(drvsign_operation op, const drvsign_params *p, size_t count,
                                    drvsign_diag *diag)
{
    unsigned before = diag->errors;

    if ((unsigned)op >= sizeof op_names / sizeof op_names[0]) {
        drv_error(diag, NULL, "unknown operation %d", (int)op);
        return DRVSIGN_USAGE;
    }
    check_operands(op, p, count, diag);
    check_required(op, p, diag);
    if (OP(op) & SIGNERS)
        check_signer(op, p, diag);
    check_values(op, p, diag);
    return diag->errors != before ? DRVSIGN_USAGE : DRVSIGN_OK;
}

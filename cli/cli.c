/*
 * The drvsign command line: argv into drvsign_params, then one libdrvsign call (or, for
 * `package`, one step of the CMake module's pipeline, pipeline/).
 * Exit codes: 0 success, 1 invalid input or failed verification, 2 usage error.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drvsign/drvsign.h"
#include "pipeline.h"

enum command {
    CMD_SIGN = 1,
    CMD_VERIFY = 2,
    CMD_TESTCERT = 4,
    CMD_CATALOG = 8,
    CMD_INSPECT = 16,
    CMD_CAB = 32,
    CMD_ARCHIVE = 64,
    CMD_TIMESTAMP = 128,
    CMD_PACKAGE = 256,
    CMD_EXTRACT = 512,
    CMD_REMOVE = 1024,
    CMD_ATTACH = 2048
};
#define CMD_ALL                                                                                    \
    (CMD_SIGN | CMD_VERIFY | CMD_TESTCERT | CMD_CATALOG | CMD_INSPECT | CMD_CAB | CMD_ARCHIVE |    \
     CMD_TIMESTAMP | CMD_PACKAGE | CMD_EXTRACT | CMD_REMOVE | CMD_ATTACH)
#define CMD_STAMPERS (CMD_SIGN | CMD_CAB | CMD_TIMESTAMP | CMD_ATTACH)
#define CMD_SIGNERS (CMD_SIGN | CMD_CAB)

typedef struct cli {
    drvsign_params params;
    const char *add_certs[32];
    const char *os_lists[64];
    const char *ts_urls[16];
    const char *ts_legacy[16];
    int files_mode;
    const char *manifest;
    const char *testcert_dir;
    int quiet;
    int prepare, complete;
} cli;

typedef struct option {
    const char *name;
    const char *arg; /* NULL for a flag */
    unsigned commands;
    const char *help;
} option;

/* One row per option and meaning: an option that means something else to another command has
 * a row of its own, so each command's --help explains only its own options, in its own words. */
static const option options[] = {
    {"--pfx", "FILE", CMD_SIGNERS, "PKCS#12 file with the key and certificate chain"},
    {"--cert", "FILE|URI", CMD_SIGNERS,
     "certificate (PEM or DER; PEM may hold the whole chain), or a pkcs11: URI"},
    {"--key", "FILE|URI", CMD_SIGNERS,
     "private key (PEM or DER, may be encrypted), or a pkcs11: URI (RFC 7512)"},
    {"--pkcs11-module", "PATH", CMD_SIGNERS,
     "the token's PKCS#11 module (default: the p11-kit proxy)"},
    {"--pin-env", "VAR", CMD_SIGNERS, "read the token PIN from environment variable VAR"},
    {"--pin-file", "FILE", CMD_SIGNERS, "read the token PIN from the first line of FILE"},
    {"--password-env", "VAR", CMD_SIGNERS,
     "read the key or PFX password from environment variable VAR"},
    {"--password-file", "FILE", CMD_SIGNERS,
     "read the key or PFX password from the first line of FILE"},
    {"--password-env", "VAR", CMD_TESTCERT,
     "protect signing.pfx with the password in environment variable VAR"},
    {"--password-file", "FILE", CMD_TESTCERT,
     "protect signing.pfx with the password on the first line of FILE"},
    {"--signer-command", "CMD", CMD_SIGNERS,
     "an external signer holds the key: CMD reads the digest on stdin and writes the raw "
     "signature (split like a shell command line, run without a shell; needs --cert CHAIN)"},
    {"--signer-timeout", "S", CMD_SIGNERS, "seconds the signer command may take (default 60)"},
    {"--prepare", NULL, CMD_SIGN,
     "detached signing, step 1: write DIR/<name>.digest and DIR/<name>.request (--out DIR)"},
    {"--complete", NULL, CMD_SIGN,
     "detached signing, step 2: attach SIGDIR/<name>.sig (--requests DIR --signatures SIGDIR)"},
    {"--requests", "DIR", CMD_SIGN, "with --complete: the directory --prepare wrote"},
    {"--signatures", "DIR", CMD_SIGN, "with --complete: the raw signatures, <name>.sig"},
    {"--signature", "FILE", CMD_ATTACH, "the PKCS#7 signature (DER) to attach"},
    {"--add-cert", "FILE", CMD_SIGNERS, "add these certificates to the signature (repeatable)"},
    {"--digest", "ALG", CMD_SIGN, "file digest of the signature: sha256 (default) or sha1"},
    {"--digest", "ALG", CMD_CAB, "the cabinet signature's digest: sha256 (default) or sha1"},
    {"--page-hashes", NULL, CMD_SIGN,
     "add page hashes to PE signatures (SHA-1 pages with --digest sha1, else SHA-256)"},
    {"--page-hashes", NULL, CMD_CATALOG,
     "add page hashes to the catalog's PE members (Inf2Cat /pageHashes)"},
    {"--append", NULL, CMD_SIGN, "add a nested signature instead of replacing the signature"},
    {"--signing-time", NULL, CMD_SIGNERS, "add a signingTime attribute (signtool adds none)"},
    {"--description", "TEXT", CMD_SIGNERS, "program name shown by Windows (SpcSpOpusInfo)"},
    {"--url", "URL", CMD_SIGNERS, "more-information URL (SpcSpOpusInfo)"},
    {"--timestamp", "URL", CMD_STAMPERS,
     "RFC 3161 timestamp server (repeatable: failover in the order given)"},
    {"--timestamp-digest", "ALG", CMD_STAMPERS,
     "digest of the RFC 3161 request: sha256 (default), sha384, sha512 or sha1"},
    {"--timestamp-legacy", "URL", CMD_STAMPERS,
     "legacy Authenticode timestamp server, signtool /t (repeatable)"},
    {"--timestamp-retries", "N", CMD_STAMPERS, "rounds over the servers (default 3)"},
    {"--timestamp-wait", "S", CMD_STAMPERS, "seconds between rounds (default 10)"},
    {"--timestamp-timeout", "S", CMD_STAMPERS,
     "seconds to connect and get a reply, per request (default 30)"},
    {"--timestamp-ca-file", "FILE", CMD_STAMPERS,
     "trust for HTTPS timestamp servers (default: the system store)"},
    {"--out", "FILE", CMD_SIGN,
     "write the signed file here instead of signing in place (one FILE; with --prepare: the "
     "directory for the requests)"},
    {"--out", "FILE", CMD_TIMESTAMP, "write the timestamped file here instead of in place (one FILE)"},
    {"--out", "DIR", CMD_TESTCERT, "the directory for the new identity (must not hold one)"},
    {"--out", "FILE", CMD_CATALOG,
     "the catalog to write (needed with --files; with --driver, when the INFs name one catalog)"},
    {"--out", "FILE", CMD_CAB, "the cabinet to write"},
    {"--out", "FILE", CMD_ARCHIVE, "the archive to write"},
    {"--out", "FILE", CMD_EXTRACT, "the signature file to write (PKCS#7, DER)"},
    {"--out", "FILE", CMD_REMOVE | CMD_ATTACH, "write the result here instead of in place (one FILE)"},
    {"--driver", "DIR", CMD_CATALOG, "the package directory; its INF files say what to catalog"},
    {"--files", NULL, CMD_CATALOG, "catalog the FILE arguments (makecat mode; needs --out)"},
    {"--os", "LIST", CMD_CATALOG,
     "Inf2Cat /os ids, comma-separated or repeated (e.g. 10_X64,10_RS3_ARM64)"},
    {"--os", "LIST", CMD_VERIFY,
     "the Inf2Cat /os ids to check --package for (default: those its catalogs name)"},
    {"--catalog-version", "1|2", CMD_CATALOG,
     "1: SHA-1 members, as Inf2Cat writes (default); 2: SHA-256 members plus SHA-1 entries"},
    {"--use-local-time", NULL, CMD_CATALOG, "judge DriverVer's date in local time, not UTC"},
    {"--no-catalog", NULL, CMD_CATALOG, "run the signability checks only (Inf2Cat /nocat)"},
    {"--manifest", "FILE", CMD_PACKAGE, "the package manifest the CMake module writes"},
    {"--ca", "FILE", CMD_VERIFY, "trusted roots (PEM or DER); default: the system store"},
    {"--time", "EPOCH", CMD_VERIFY,
     "check the certificates as at this time (seconds since 1970) instead of now"},
    {"--time", "EPOCH", CMD_CATALOG,
     "the catalog's date, ctlThisUpdate (default: SOURCE_DATE_EPOCH, else now)"},
    {"--time", "EPOCH", CMD_CAB | CMD_ARCHIVE,
     "every file's date (default: SOURCE_DATE_EPOCH, else each file's own)"},
    {"--compression", "mszip|none", CMD_CAB, "MSZIP (default) or stored"},
    {"--include-pdb", "DIR", CMD_CAB, "add each binary's .pdb from DIR beside it"},
    {"--format", "FMT", CMD_ARCHIVE, "zip, tar.gz, tar.xz or 7z"},
    {"--catalog", "FILE", CMD_VERIFY, "check that each FILE is a member of this catalog"},
    {"--package", "DIR", CMD_VERIFY,
     "check a staged package (its catalogs, their signatures, every file its INFs copy)"},
    {"--json", NULL, CMD_VERIFY, "print the report as JSON"},
    {"--json", NULL, CMD_INSPECT, "print what the files hold as JSON"},
    {"--subject", "TEXT", CMD_TESTCERT, "common name of the test certificate"},
    {"--days", "N", CMD_TESTCERT, "validity in days (default 3650)"},
    {"--quiet", NULL, CMD_SIGN | CMD_TIMESTAMP, "print errors only, not a line per file"},
    {"--quiet", NULL, CMD_ALL & ~(CMD_SIGN | CMD_TIMESTAMP), "print errors only"},
    {"--help", NULL, CMD_ALL, "this help"},
};

/* The command line's words for the library's parameters: every library message that names one
 * says it as the user typed it. */
static const struct {
    drvsign_param id;
    const char *flag;
} param_flags[] = {
    {DRVSIGN_PARAM_PFX, "--pfx"},
    {DRVSIGN_PARAM_CERT, "--cert"},
    {DRVSIGN_PARAM_KEY, "--key"},
    {DRVSIGN_PARAM_PKCS11_MODULE, "--pkcs11-module"},
    {DRVSIGN_PARAM_PASSWORD_ENV, "--password-env"},
    {DRVSIGN_PARAM_PASSWORD_FILE, "--password-file"},
    {DRVSIGN_PARAM_SIGNER_COMMAND, "--signer-command"},
    {DRVSIGN_PARAM_SIGNER_TIMEOUT, "--signer-timeout"},
    {DRVSIGN_PARAM_ADD_CERTS, "--add-cert"},
    {DRVSIGN_PARAM_DIGEST, "--digest"},
    {DRVSIGN_PARAM_PAGE_HASHES, "--page-hashes"},
    {DRVSIGN_PARAM_APPEND, "--append"},
    {DRVSIGN_PARAM_SIGNING_TIME, "--signing-time"},
    {DRVSIGN_PARAM_DESCRIPTION, "--description"},
    {DRVSIGN_PARAM_URL, "--url"},
    {DRVSIGN_PARAM_OUT, "--out"},
    {DRVSIGN_PARAM_PREPARE_DIR, "--prepare"},
    {DRVSIGN_PARAM_REQUESTS_DIR, "--requests"},
    {DRVSIGN_PARAM_SIGNATURES_DIR, "--signatures"},
    {DRVSIGN_PARAM_SIGNATURE, "--signature"},
    {DRVSIGN_PARAM_TIMESTAMP_URLS, "--timestamp"},
    {DRVSIGN_PARAM_TIMESTAMP_LEGACY_URLS, "--timestamp-legacy"},
    {DRVSIGN_PARAM_TIMESTAMP_DIGEST, "--timestamp-digest"},
    {DRVSIGN_PARAM_TIMESTAMP_RETRIES, "--timestamp-retries"},
    {DRVSIGN_PARAM_TIMESTAMP_WAIT, "--timestamp-wait"},
    {DRVSIGN_PARAM_TIMESTAMP_TIMEOUT, "--timestamp-timeout"},
    {DRVSIGN_PARAM_TIMESTAMP_CA_FILE, "--timestamp-ca-file"},
    {DRVSIGN_PARAM_TIME, "--time"},
    {DRVSIGN_PARAM_CA_FILE, "--ca"},
    {DRVSIGN_PARAM_JSON, "--json"},
    {DRVSIGN_PARAM_CATALOG, "--catalog"},
    {DRVSIGN_PARAM_PACKAGE, "--package"},
    {DRVSIGN_PARAM_DRIVER_DIR, "--driver"},
    {DRVSIGN_PARAM_OS_LISTS, "--os"},
    {DRVSIGN_PARAM_CATALOG_VERSION, "--catalog-version"},
    {DRVSIGN_PARAM_NO_CATALOG, "--no-catalog"},
    {DRVSIGN_PARAM_USE_LOCAL_TIME, "--use-local-time"},
    {DRVSIGN_PARAM_COMPRESSION, "--compression"},
    {DRVSIGN_PARAM_INCLUDE_PDB, "--include-pdb"},
    {DRVSIGN_PARAM_ARCHIVE_FORMAT, "--format"},
    {DRVSIGN_PARAM_SUBJECT, "--subject"},
    {DRVSIGN_PARAM_DAYS, "--days"},
    {DRVSIGN_PARAM_FILES, "--files"},
};

static const struct {
    const char *name;
    enum command cmd;
    const char *synopsis;
    const char *summary;
} commands[] = {
    {"sign", CMD_SIGN,
     "sign [signer options] [--out FILE] FILE...\n       drvsign sign --prepare --cert CHAIN "
     "--out DIR [options] FILE...\n       drvsign sign --complete --requests DIR --signatures "
     "SIGDIR [--timestamp URL] FILE...",
     "Authenticode-sign "}, /* + drvsign_signable_formats() */
    {"extract", CMD_EXTRACT, "extract FILE --out SIG.p7",
     "write a file's signature (PKCS#7 DER, nested signatures included) to a file"},
    {"remove", CMD_REMOVE, "remove [--out FILE] FILE...", "remove the signature from files"},
    {"attach", CMD_ATTACH, "attach FILE --signature SIG.p7 [--out FILE] [--timestamp URL]",
     "attach a stored signature to an unsigned file, after checking that it signs this file"},
    {"verify", CMD_VERIFY,
     "verify [--ca FILE] [--time EPOCH] [--json] [--catalog CAT] FILE...\n       drvsign verify "
     "--package DIR [--os LIST] [--ca FILE] [--json]",
     "check signatures, digests, chains, PE checksums and catalog membership"},
    {"catalog", CMD_CATALOG,
     "catalog --driver DIR --os LIST [--out FILE] [options]\n       drvsign catalog --files FILE... "
     "--out FILE [options]",
     "create security catalogs (.cat) from a package's INF files, like Inf2Cat, or from files"},
    {"cab", CMD_CAB,
     "cab --out FILE.cab [--compression mszip|none] [--include-pdb DIR] [signer options] "
     "PACKAGE_DIR...",
     "pack package directories into a Partner Center submission cabinet, signed if asked"},
    {"archive", CMD_ARCHIVE, "archive --format zip|tar.gz|tar.xz|7z --out FILE DIR...",
     "pack package directories into a reproducible zip or tar archive"},
    {"inspect", CMD_INSPECT, "inspect [--json] FILE...",
     "show a catalog's attributes and members, and any file's signatures"},
    {"timestamp", CMD_TIMESTAMP,
     "timestamp --timestamp URL... | --timestamp-legacy URL... [options] FILE...",
     "add or replace the timestamps of signed files, leaving the signatures as they are"},
    {"package", CMD_PACKAGE, "package --manifest FILE STEP [ARG]",
     "run one step of the CMake module's package pipeline (plan, stamp, stage, catalog, "
     "sign-catalog, cab, archive, summary, resign)"},
    {"testcert", CMD_TESTCERT, "testcert --out DIR [--subject TEXT] [--days N]",
     "create a test-signing identity: root.cer, root.pem, signing.pfx, signing.cer"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "drvsign: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see drvsign --help)\n");
}

/* A command's summary line; sign's lists the formats the library signs. */
static void print_summary(FILE *out, size_t c)
{
    char formats[256];
    drvsign_signable_formats(formats, sizeof formats);
    fprintf(out, "%s%s", commands[c].summary, commands[c].cmd == CMD_SIGN ? formats : "");
}

static void print_main_help(FILE *out)
{
    fprintf(out, "usage: drvsign <command> [options] FILE...\n\n"
                 "Signs Windows driver packages on any platform.\n\ncommands:\n");
    for (size_t i = 0; i < COUNT(commands); i++) {
        fprintf(out, "  %-10s ", commands[i].name);
        print_summary(out, i);
        fputc('\n', out);
    }
    fprintf(out, "\n'drvsign <command> --help' lists a command's options.\n"
                 "Exit status: 0 success, 1 invalid input or failed verification, 2 usage error.\n"
                 "Passwords are never taken from the command line: use --password-env or "
                 "--password-file.\n");
}

static void print_command_help(FILE *out, size_t c)
{
    fprintf(out, "usage: drvsign %s\n\n", commands[c].synopsis);
    print_summary(out, c);
    fprintf(out, ".\n\noptions:\n");
    for (size_t i = 0; i < COUNT(options); i++) {
        char left[64];
        if (!(options[i].commands & commands[c].cmd))
            continue;
        snprintf(left, sizeof left, "%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        fprintf(out, "  %-26s %s\n", left, options[i].help);
    }
}

static const char *cli_param_name(void *ctx, drvsign_param id)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof param_flags / sizeof param_flags[0]; i++)
        if (param_flags[i].id == id)
            return param_flags[i].flag;
    return NULL;
}

/* A number as typed: its syntax is the command line's business, its range the library's.
 * min is 1 for the parameters where the library reads 0 as "the default": a typed 0 cannot be
 * passed on as itself, so it is refused here. */
static int parse_number(const option *o, const char *text, long long min, long long max,
                        long long *out)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
        usage_error("%s takes a whole number%s, not '%s'", o->name,
                    min > 0 ? " greater than 0" : " (0 or more)", text);
        return -1;
    }
    *out = v;
    return 0;
}

/* Store one option's value; returns 0, or 2 after a usage message. */
static int apply(cli *c, const option *o, const char *value)
{
    drvsign_params *p = &c->params;
    const char *n = o->name;
    long long num;

    if (!strcmp(n, "--pfx"))
        p->pfx = value;
    else if (!strcmp(n, "--cert"))
        p->cert = value;
    else if (!strcmp(n, "--key"))
        p->key = value;
    else if (!strcmp(n, "--password-env") || !strcmp(n, "--pin-env"))
        p->password_env = value;
    else if (!strcmp(n, "--password-file") || !strcmp(n, "--pin-file"))
        p->password_file = value;
    else if (!strcmp(n, "--pkcs11-module"))
        p->pkcs11_module = value;
    else if (!strcmp(n, "--signer-command"))
        p->signer_command = value;
    else if (!strcmp(n, "--signer-timeout")) {
        if (parse_number(o, value, 1, INT_MAX, &num) != 0)
            return 2;
        p->signer_timeout = (int)num;
    } else if (!strcmp(n, "--prepare"))
        c->prepare = 1;
    else if (!strcmp(n, "--complete"))
        c->complete = 1;
    else if (!strcmp(n, "--requests"))
        p->requests_dir = value;
    else if (!strcmp(n, "--signatures"))
        p->signatures_dir = value;
    else if (!strcmp(n, "--signature"))
        p->signature = value;
    else if (!strcmp(n, "--add-cert")) {
        if (p->add_cert_count == COUNT(c->add_certs)) {
            usage_error("too many %s options", n);
            return 2;
        }
        c->add_certs[p->add_cert_count++] = value;
    } else if (!strcmp(n, "--digest"))
        p->digest = value;
    else if (!strcmp(n, "--page-hashes"))
        p->page_hashes = 1;
    else if (!strcmp(n, "--append"))
        p->append = 1;
    else if (!strcmp(n, "--signing-time"))
        p->signing_time = 1;
    else if (!strcmp(n, "--description"))
        p->description = value;
    else if (!strcmp(n, "--url"))
        p->url = value;
    else if (!strcmp(n, "--out")) {
        p->out = value;
        c->testcert_dir = value;
    } else if (!strcmp(n, "--ca"))
        p->ca_file = value;
    else if (!strcmp(n, "--timestamp") || !strcmp(n, "--timestamp-legacy")) {
        int legacy = n[11] == '-';
        size_t *count = legacy ? &p->timestamp_legacy_count : &p->timestamp_url_count;
        if (*count == COUNT(c->ts_urls)) {
            usage_error("too many %s options", n);
            return 2;
        }
        (legacy ? c->ts_legacy : c->ts_urls)[(*count)++] = value;
    } else if (!strcmp(n, "--timestamp-digest"))
        p->timestamp_digest = value;
    else if (!strcmp(n, "--timestamp-retries") || !strcmp(n, "--timestamp-wait") ||
             !strcmp(n, "--timestamp-timeout")) {
        if (parse_number(o, value, !strcmp(n, "--timestamp-wait") ? 0 : 1, INT_MAX, &num) != 0)
            return 2;
        if (!strcmp(n, "--timestamp-retries"))
            p->timestamp_retries = (int)num;
        else if (!strcmp(n, "--timestamp-wait"))
            p->timestamp_wait = (int)num;
        else
            p->timestamp_timeout = (int)num;
    } else if (!strcmp(n, "--timestamp-ca-file"))
        p->timestamp_ca_file = value;
    else if (!strcmp(n, "--manifest"))
        c->manifest = value;
    else if (!strcmp(n, "--compression"))
        p->compression = value;
    else if (!strcmp(n, "--include-pdb"))
        p->include_pdb = value;
    else if (!strcmp(n, "--format"))
        p->archive_format = value;
    else if (!strcmp(n, "--driver"))
        p->driver_dir = value;
    else if (!strcmp(n, "--files"))
        c->files_mode = 1;
    else if (!strcmp(n, "--os")) {
        if (p->os_list_count == COUNT(c->os_lists)) {
            usage_error("too many %s options", n);
            return 2;
        }
        c->os_lists[p->os_list_count++] = value;
    } else if (!strcmp(n, "--catalog-version")) {
        if (parse_number(o, value, 1, INT_MAX, &num) != 0)
            return 2;
        p->catalog_version = (int)num;
    } else if (!strcmp(n, "--use-local-time"))
        p->use_local_time = 1;
    else if (!strcmp(n, "--no-catalog"))
        p->no_catalog = 1;
    else if (!strcmp(n, "--catalog"))
        p->catalog = value;
    else if (!strcmp(n, "--package"))
        p->package = value;
    else if (!strcmp(n, "--time")) {
        if (parse_number(o, value, 1, LLONG_MAX, &num) != 0)
            return 2;
        p->time = num;
    } else if (!strcmp(n, "--json"))
        p->json = 1;
    else if (!strcmp(n, "--subject"))
        p->subject = value;
    else if (!strcmp(n, "--days")) {
        if (parse_number(o, value, 1, INT_MAX, &num) != 0)
            return 2;
        p->days = (int)num;
    } else if (!strcmp(n, "--quiet"))
        c->quiet = 1;
    return 0;
}

/* The row of option name for command cmd; else any row of that name (the option belongs to
 * another command); else NULL. */
static const option *find_option(const char *name, unsigned cmd)
{
    const option *other = NULL;
    for (size_t i = 0; i < COUNT(options); i++)
        if (strcmp(options[i].name, name) == 0) {
            if (options[i].commands & cmd)
                return &options[i];
            other = &options[i];
        }
    return other;
}

int main(int argc, char **argv)
{
    static cli c;
    const char **files;
    size_t file_count = 0, cmd = COUNT(commands);
    drvsign_diag diag = {0};
    unsigned untrusted_roots = 0;
    drvsign_status status;
    int only_files = 0;

    /* File names are UTF-8 (INF files, cabinets, archives); libarchive converts names through
     * the C library's locale, so make sure it is a UTF-8 one. */
    if (setlocale(LC_CTYPE, "") == NULL || MB_CUR_MAX == 1)
        if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
            setlocale(LC_CTYPE, "en_US.UTF-8");
    if (argc < 2) {
        print_main_help(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_main_help(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("drvsign %s\n", DRVSIGN_VERSION);
        return 0;
    }
    for (size_t i = 0; i < COUNT(commands); i++)
        if (!strcmp(argv[1], commands[i].name))
            cmd = i;
    if (cmd == COUNT(commands)) {
        usage_error("unknown command '%s'", argv[1]);
        return 2;
    }
    c.params.timestamp_wait = -1; /* unset: the default applies */
    files = calloc((size_t)argc, sizeof *files);
    if (files == NULL)
        return 1;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        const option *o;
        char name[64];
        const char *eq;

        if (only_files || arg[0] != '-' || arg[1] == '\0') {
            files[file_count++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_files = 1;
            continue;
        }
        /* --name=value and --name value */
        eq = strchr(arg, '=');
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
        o = find_option(name, commands[cmd].cmd);
        if (o == NULL || !(o->commands & commands[cmd].cmd)) {
            if (!strcmp(name, "--password") || !strcmp(name, "--pin") || !strcmp(name, "-p") ||
                !strcmp(name, "--pass"))
                fprintf(stderr, "drvsign: passwords are not taken on the command line, where "
                                "other users and logs can see them; use --password-env VAR "
                                "or --password-file FILE\n");
            else if (o != NULL)
                usage_error("option %s does not apply to this command", name);
            else
                usage_error("unknown option %s", name);
            free(files);
            return 2;
        }
        if (!strcmp(o->name, "--help")) {
            print_command_help(stdout, cmd);
            free(files);
            return 0;
        }
        if (o->arg != NULL) {
            if (eq != NULL)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                usage_error("option %s needs a value", o->name);
                free(files);
                return 2;
            }
        } else if (eq != NULL) {
            usage_error("option %s takes no value", o->name);
            free(files);
            return 2;
        }
        if (apply(&c, o, value) != 0) {
            free(files);
            return 2;
        }
    }
    c.params.add_certs = c.add_certs;
    c.params.os_lists = c.os_lists;
    c.params.timestamp_urls = c.ts_urls;
    c.params.timestamp_legacy_urls = c.ts_legacy;
    c.params.quiet = c.quiet;
    diag.quiet = c.quiet;
    diag.param_name = cli_param_name;

    switch (commands[cmd].cmd) {
    case CMD_SIGN:
        /* --prepare, --complete and --files are the command line's own modes: what they need
         * of the other flags is checked here; everything else, by the library */
        if (c.prepare && c.complete) {
            usage_error("%s", "--prepare and --complete are two separate steps");
            status = DRVSIGN_USAGE;
            break;
        }
        if (c.prepare) {
            if (c.params.out == NULL) {
                usage_error("%s", "--prepare needs --out DIR, the directory for the requests");
                status = DRVSIGN_USAGE;
                break;
            }
            c.params.prepare_dir = c.params.out;
            c.params.out = NULL;
        } else if (c.complete) {
            if (c.params.requests_dir == NULL || c.params.signatures_dir == NULL) {
                usage_error("%s", "--complete needs --requests DIR and --signatures SIGDIR");
                status = DRVSIGN_USAGE;
                break;
            }
        } else if (c.params.requests_dir || c.params.signatures_dir) {
            usage_error("%s", "--requests and --signatures belong to --complete");
            status = DRVSIGN_USAGE;
            break;
        }
        c.params.report = stdout;
        status = drvsign_sign(&c.params, files, file_count, &diag);
        break;
    case CMD_EXTRACT:
        /* the library takes one file: how many were typed is checked first */
        status = drvsign_check_params(DRVSIGN_OP_EXTRACT, &c.params, file_count, &diag);
        if (status == DRVSIGN_OK)
            status = drvsign_extract(&c.params, files[0], &diag);
        break;
    case CMD_REMOVE:
        status = drvsign_remove(&c.params, files, file_count, &diag);
        break;
    case CMD_ATTACH:
        status = drvsign_check_params(DRVSIGN_OP_ATTACH, &c.params, file_count, &diag);
        if (status == DRVSIGN_OK)
            status = drvsign_attach(&c.params, files[0], &diag);
        break;
    case CMD_VERIFY:
        c.params.untrusted_roots = &untrusted_roots;
        status = drvsign_verify(&c.params, files, file_count, stdout, &diag);
        if (untrusted_roots > 0)
            fprintf(stderr, "drvsign: hint: to trust a root, give its certificate with --ca FILE "
                            "(PEM or DER)%s\n",
                    c.params.ca_file == NULL ? "; the system store was used" : "");
        break;
    case CMD_CATALOG:
        if (file_count > 0 && !c.files_mode) {
            usage_error("catalog takes files only with --files (got '%s')", files[0]);
            status = DRVSIGN_USAGE;
            break;
        }
        status = drvsign_catalog(&c.params, files, file_count, stdout, &diag);
        break;
    case CMD_CAB:
        status = drvsign_cab(&c.params, files, file_count, stdout, &diag);
        break;
    case CMD_PACKAGE:
        if (c.manifest == NULL) {
            usage_error("%s", "package needs --manifest FILE (the manifest the CMake module writes)");
            status = DRVSIGN_USAGE;
            break;
        }
        if (file_count < 1 || file_count > 2) {
            usage_error("%s", "package takes a step and at most one argument");
            status = DRVSIGN_USAGE;
            break;
        }
        status = drvsign_pipeline_step(c.manifest, files[0], file_count > 1 ? files[1] : NULL,
                                       stdout, &diag);
        break;
    case CMD_TIMESTAMP:
        c.params.report = stdout;
        status = drvsign_timestamp(&c.params, files, file_count, &diag);
        break;
    case CMD_ARCHIVE:
        status = drvsign_archive(&c.params, files, file_count, stdout, &diag);
        break;
    case CMD_INSPECT:
        status = drvsign_inspect(&c.params, files, file_count, stdout, &diag);
        break;
    default:
        if (file_count != 0) {
            usage_error("testcert takes no file arguments (got '%s')", files[0]);
            status = DRVSIGN_USAGE;
            break;
        }
        status = drvsign_testcert(&c.params, c.testcert_dir, &diag);
        if (status == DRVSIGN_OK && !c.quiet)
            printf("drvsign: test identity written to %s (install root.cer on test machines "
                   "in Root and TrustedPublisher)\n",
                   c.testcert_dir);
        break;
    }
    free(files);
    return (int)status;
}

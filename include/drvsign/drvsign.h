/*
 * libdrvsign: the public C API behind the drvsign helper.
 *
 * The operations only: the front ends (the CLI, cli/, and the CMake module's pipeline,
 * pipeline/) share one parameter model, drvsign_params: the CLI fills it from argv, the
 * pipeline from the manifest the module writes. Every entry point reports problems through
 * a drvsign_diag sink (one line per problem) and returns a drvsign_status. The sink is never
 * NULL: every function that takes one writes through it (drvsign_diag_silent makes one that
 * shows nothing).
 */
#ifndef DRVSIGN_DRVSIGN_H
#define DRVSIGN_DRVSIGN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DRVSIGN_VERSION "0.1.0"

typedef enum drvsign_status {
    DRVSIGN_OK = 0,
    DRVSIGN_FAILED = 1, /* invalid input, failed verification, I/O error */
    DRVSIGN_USAGE = 2   /* the caller asked for something impossible */
} drvsign_status;

/*
 * The parameters a message can name: one per user-settable field of drvsign_params (and
 * DRVSIGN_PARAM_FILES for the files or directories an operation is given). The library never
 * spells a parameter itself: it asks the sink's param_name for the front end's word (the CLI
 * says "--os", the CMake module "OS"), and without one uses the field's name in
 * drvsign_params ("os_lists"), as drvsign_param_default_name returns it.
 */
typedef enum drvsign_param {
    DRVSIGN_PARAM_PFX,
    DRVSIGN_PARAM_CERT,
    DRVSIGN_PARAM_KEY,
    DRVSIGN_PARAM_PKCS11_MODULE,
    DRVSIGN_PARAM_PASSWORD_ENV,
    DRVSIGN_PARAM_PASSWORD_FILE,
    DRVSIGN_PARAM_SIGNER_COMMAND,
    DRVSIGN_PARAM_SIGNER_TIMEOUT,
    DRVSIGN_PARAM_ADD_CERTS,
    DRVSIGN_PARAM_DIGEST,
    DRVSIGN_PARAM_PAGE_HASHES,
    DRVSIGN_PARAM_APPEND,
    DRVSIGN_PARAM_SIGNING_TIME,
    DRVSIGN_PARAM_DESCRIPTION,
    DRVSIGN_PARAM_URL,
    DRVSIGN_PARAM_OUT,
    DRVSIGN_PARAM_PREPARE_DIR,
    DRVSIGN_PARAM_REQUESTS_DIR,
    DRVSIGN_PARAM_SIGNATURES_DIR,
    DRVSIGN_PARAM_SIGNATURE,
    DRVSIGN_PARAM_TIMESTAMP_URLS,
    DRVSIGN_PARAM_TIMESTAMP_LEGACY_URLS,
    DRVSIGN_PARAM_TIMESTAMP_DIGEST,
    DRVSIGN_PARAM_TIMESTAMP_RETRIES,
    DRVSIGN_PARAM_TIMESTAMP_WAIT,
    DRVSIGN_PARAM_TIMESTAMP_TIMEOUT,
    DRVSIGN_PARAM_TIMESTAMP_CA_FILE,
    DRVSIGN_PARAM_TIME,
    DRVSIGN_PARAM_CA_FILE,
    DRVSIGN_PARAM_JSON,
    DRVSIGN_PARAM_CATALOG,
    DRVSIGN_PARAM_PACKAGE,
    DRVSIGN_PARAM_DRIVER_DIR,
    DRVSIGN_PARAM_OS_LISTS,
    DRVSIGN_PARAM_CATALOG_VERSION,
    DRVSIGN_PARAM_NO_CATALOG,
    DRVSIGN_PARAM_CATALOG_DIR,
    DRVSIGN_PARAM_USE_LOCAL_TIME,
    DRVSIGN_PARAM_COMPRESSION,
    DRVSIGN_PARAM_INCLUDE_PDB,
    DRVSIGN_PARAM_ARCHIVE_FORMAT,
    DRVSIGN_PARAM_SUBJECT,
    DRVSIGN_PARAM_DAYS,
    DRVSIGN_PARAM_ARCH,
    DRVSIGN_PARAM_KMDF_VERSION,
    DRVSIGN_PARAM_UMDF_VERSION,
    DRVSIGN_PARAM_DRIVER_VERSION,
    DRVSIGN_PARAM_DRIVER_DATE,
    DRVSIGN_PARAM_FILES,
    DRVSIGN_PARAM_COUNT /* not a parameter: the number of them */
} drvsign_param;

/* The library's own name for id: its field in drvsign_params ("out", "os_lists", ...). */
const char *drvsign_param_default_name(drvsign_param id);

/*
 * Where problems and progress go; never NULL. emit receives one complete line without the
 * trailing newline, already prefixed with the file (and line) it is about. A NULL emit writes
 * "drvsign: <line>" to stderr. Counters let callers list every problem and fail at the end.
 * progress receives a line that replaces the previous progress line (done is 1 on the last);
 * a NULL progress rewrites one line on stderr when stderr is a terminal.
 */
typedef struct drvsign_diag {
    void (*emit)(void *ctx, int is_error, const char *line);
    void *ctx;
    unsigned errors;
    unsigned warnings;
    int quiet; /* drop warnings and progress */
    void (*progress)(void *ctx, int done, const char *line);
    /* The front end's name for a parameter, called with ctx whenever a message names one
     * (possibly from several threads at once: return names, keep no state); NULL, or a NULL
     * return, means drvsign_param_default_name. */
    const char *(*param_name)(void *ctx, drvsign_param id);
} drvsign_diag;

/* A sink that shows nothing (errors and warnings are still counted). */
void drvsign_diag_silent(drvsign_diag *diag);

/* The one parameter model. Zero-initialise, then set what applies. */
typedef struct drvsign_params {
    /* signer */
    const char *pfx;           /* PKCS#12 file */
    const char *cert;          /* PEM or DER file, may hold the whole chain; or a pkcs11: URI */
    const char *key;           /* PEM or DER private key file, or a pkcs11: URI */
    const char *pkcs11_module; /* PKCS#11 module; NULL: the p11-kit proxy when there is one */
    const char *password_env;  /* name of the environment variable holding the password or PIN */
    const char *password_file; /* file whose first line is the password or PIN */
    /* an external signer: gets the digest on stdin, writes the raw signature to stdout. Either
     * one command line, split into words as a POSIX shell would (no expansions), or the words. */
    const char *signer_command;
    const char *const *signer_argv;
    size_t signer_argc;
    int signer_timeout;        /* seconds the command may take; 0 means 60 */
    const char **add_certs;    /* extra certificates (cross certificates, intermediates) */
    size_t add_cert_count;
    const char *digest;  /* "sha256" (default) or "sha1" */
    int page_hashes;     /* add the page-hash table */
    int append;          /* add a nested signature instead of replacing */
    int signing_time;    /* add a signingTime attribute (signtool adds none) */
    const char *description; /* SpcSpOpusInfo programName */
    const char *url;         /* SpcSpOpusInfo moreInfo */
    const char *out;         /* output file; NULL signs in place */
    FILE *report;            /* sign, timestamp: one line per file done; NULL prints none */
    /* detached signing in two steps: prepare writes DIR/<name>.digest and DIR/<name>.request
     * (prepare_dir); complete reads them from requests_dir and SIGDIR/<name>.sig */
    const char *prepare_dir;
    const char *requests_dir;
    const char *signatures_dir;
    const char *signature;   /* attach: the PKCS#7 SignedData (DER) to attach */

    /* timestamps (sign, cab, timestamp) */
    const char *const *timestamp_urls;        /* RFC 3161, in failover order */
    size_t timestamp_url_count;
    const char *const *timestamp_legacy_urls; /* legacy Authenticode */
    size_t timestamp_legacy_count;
    const char *timestamp_digest; /* RFC 3161 imprint: sha256 (default), sha384, sha512, sha1 */
    int timestamp_retries;        /* rounds over the URLs; 0 means 3 */
    int timestamp_wait;           /* seconds between rounds; negative means 10 */
    int timestamp_timeout;        /* seconds per request; 0 means 30 */
    const char *timestamp_ca_file; /* HTTPS trust for timestamp servers; NULL: the system store */

    /* the time that applies: verify checks chains at it, catalog writes it as ctlThisUpdate.
     * Seconds since the epoch; 0 means now (catalog: SOURCE_DATE_EPOCH, then now). */
    int64_t time;

    /* verifier */
    const char *ca_file;   /* trusted roots; NULL uses the system store */
    int json;              /* machine-readable report */
    const char *catalog;   /* verify: check that the files are members of this catalog */
    const char *package;   /* verify: check a whole staged package directory */
    unsigned *untrusted_roots; /* verify: if set, counts chains that end at an untrusted root */

    /* catalog (Inf2Cat) */
    const char *driver_dir;     /* --driver: the package directory with its INF files */
    const char *const *os_lists; /* --os values: Inf2Cat ids, comma-separated */
    size_t os_list_count;
    int catalog_version;        /* 1 (default, what Inf2Cat writes) or 2 */
    int no_catalog;             /* run the signability checks only (Inf2Cat /nocat) */
    const char *catalog_dir;    /* write the catalogs here instead of beside their INF */
    int use_local_time;         /* judge DriverVer in local time (Inf2Cat /uselocaltime) */
    int quiet;                  /* no progress output */

    /* cab and archive */
    const char *compression;  /* cab: "mszip" (default) or "none" */
    const char *include_pdb;  /* cab: add the matching .pdb files from this directory */
    const char *archive_format; /* archive: zip, tar.gz, tar.xz, 7z */

    /* testcert */
    const char *subject;
    int days;

    /* stampinf (the WDK's StampInf) */
    const char *arch;           /* the value of $ARCH$ */
    const char *kmdf_version;   /* $KMDFVERSION$ */
    const char *umdf_version;   /* $UMDFVERSION$ */
    const char *driver_version; /* DriverVer's version; NULL keeps the INF's */
    const char *driver_date;    /* mm/dd/yyyy; NULL: SOURCE_DATE_EPOCH's day, else today (UTC) */
} drvsign_params;

/* The operations, for drvsign_check_params. */
typedef enum drvsign_operation {
    DRVSIGN_OP_SIGN,
    DRVSIGN_OP_EXTRACT,
    DRVSIGN_OP_REMOVE,
    DRVSIGN_OP_ATTACH,
    DRVSIGN_OP_TIMESTAMP,
    DRVSIGN_OP_VERIFY,
    DRVSIGN_OP_CATALOG,
    DRVSIGN_OP_CAB,
    DRVSIGN_OP_ARCHIVE,
    DRVSIGN_OP_INSPECT,
    DRVSIGN_OP_TESTCERT,
    DRVSIGN_OP_PLAN
} drvsign_operation;

/*
 * The one validator: checks params for operation op given count files (or directories; for
 * testcert, 1 when it has its directory), every value and every combination, reporting each
 * problem as one line (parameters named through diag->param_name), then DRVSIGN_USAGE if there
 * was any. Every operation below calls it first; a front end may call it earlier (the CMake
 * module does, at configure time) to report problems before any work starts.
 */
drvsign_status drvsign_check_params(drvsign_operation op, const drvsign_params *params,
                                    size_t count, drvsign_diag *diag);

/* Sign each file in place (or into params->out when exactly one file is given). */
drvsign_status drvsign_sign(const drvsign_params *params, const char *const *files, size_t count,
                            drvsign_diag *diag);

/*
 * Detached signatures: extract writes the file's signature (PKCS#7 DER) to params->out;
 * remove strips it; attach puts params->signature into the file after checking that it
 * signs this file's digest.
 */
drvsign_status drvsign_extract(const drvsign_params *params, const char *file,
                               drvsign_diag *diag);
drvsign_status drvsign_remove(const drvsign_params *params, const char *const *files,
                              size_t count, drvsign_diag *diag);
drvsign_status drvsign_attach(const drvsign_params *params, const char *file, drvsign_diag *diag);

/* Add or replace the timestamps of signed files, leaving their signatures as they are. */
drvsign_status drvsign_timestamp(const drvsign_params *params, const char *const *files,
                                 size_t count, drvsign_diag *diag);

/* Verify each file; the human or JSON report goes to report. */
drvsign_status drvsign_verify(const drvsign_params *params, const char *const *files, size_t count,
                              FILE *report, drvsign_diag *diag);

/*
 * Catalogs: with params->driver_dir, one catalog per CatalogFile of every INF in it (Inf2Cat);
 * otherwise a catalog of the given files, written to params->out (makecat).
 */
drvsign_status drvsign_catalog(const drvsign_params *params, const char *const *files,
                               size_t count, FILE *report, drvsign_diag *diag);

/*
 * A Partner Center submission cabinet: each package directory becomes a folder of that name.
 * Signed in the same step when params names a signer.
 */
drvsign_status drvsign_cab(const drvsign_params *params, const char *const *dirs, size_t count,
                           FILE *report, drvsign_diag *diag);

/* A zip/tar.gz/tar.xz/7z archive of package directories, reproducible, through libarchive. */
drvsign_status drvsign_archive(const drvsign_params *params, const char *const *dirs,
                               size_t count, FILE *report, drvsign_diag *diag);

/* Print what a file holds: a catalog's attributes and members, and any file's signatures. */
drvsign_status drvsign_inspect(const drvsign_params *params, const char *const *files,
                               size_t count, FILE *report, drvsign_diag *diag);

/* Create a test-signing identity in dir: root.cer, root.pem, signing.pfx, signing.cer. */
/* The file formats drvsign signs, for help text ("PE files (.sys, .dll, .exe), catalogs (.cat)
 * and cabinets (.cab)"), written to buf (truncated to size, NUL-terminated when size > 0).
 * Returns the text's full length. */
size_t drvsign_signable_formats(char *buf, size_t size);

drvsign_status drvsign_testcert(const drvsign_params *params, const char *dir, drvsign_diag *diag);

/*
 * A driver package as its INF lays it out, read as Inf2Cat reads it for every target in
 * params->os_lists, before any of its files exist: each catalog the INF names (CatalogFile
 * with its platform decoration) and, for it, every file the install sections that apply copy
 * (through the models sections whose TargetOSVersion decorations the targets take, Needs and
 * the platform companions followed), placed where SourceDisksNames and SourceDisksFiles put
 * it. inf is the INF itself (a .inx once stamped: its $ARCH$ replaced). Every problem is
 * reported against inf (file:line); DriverVer is not judged, stamping may still set it.
 */
typedef struct drvsign_plan_file {
    const char *name; /* the file's name as the INF writes it */
    const char *path; /* its place in the package, relative to the INF, '/'-separated */
} drvsign_plan_file;

typedef struct drvsign_plan_catalog {
    const char *name; /* the catalog's file name; it goes beside the INF */
    const char *os;   /* its OS attribute, a token per target ("_v100_X64,_v100_X64_RS3") */
    const drvsign_plan_file *files; /* what it covers besides the INF, in the INF's order */
    size_t file_count;
    const char *const *hwids; /* hardware ids of the models that apply, lower-case */
    size_t hwid_count;
} drvsign_plan_catalog;

typedef struct drvsign_package_plan {
    const char *inf; /* the INF's file name */
    const drvsign_plan_catalog *catalogs;
    size_t catalog_count;
    void *internal; /* the library's: what the pointers above point into */
} drvsign_package_plan;

/* The plan of inf's package into *plan, which is set even on failure: free it with
 * drvsign_plan_free (a zeroed plan may be freed too). */
drvsign_status drvsign_plan(const drvsign_params *params, const char *inf,
                            drvsign_package_plan *plan, drvsign_diag *diag);
void drvsign_plan_free(drvsign_package_plan *plan);

/*
 * StampInf, as the WDK's tool does it: replace $ARCH$, $KMDFVERSION$ and $UMDFVERSION$ with
 * params' values (a token with no value is an error at its line) and set DriverVer in the
 * first [Version] block: always with a driver_version or driver_date, else only where the INF
 * leaves it to the stamping (no DriverVer, or one without a date, as Visual Studio's templates
 * have). The INF is read with the INF reader's decoder and written back in the encoding it came
 * in (UTF-16LE with its BOM, UTF-8 with or without BOM, ANSI byte for byte), every character
 * kept. Every line keeps its number but one: *inserted_line (if not NULL) is the line of a
 * DriverVer the INF did not have, else 0, so problems found in the output map back to inf.
 *
 * drvsign_stampinf reads inf and writes params->out (beside it, renamed into place); with
 * params->out NULL it writes nothing. drvsign_stampinf_buffer stamps data, the INF as read
 * (inf names it in messages), into *out (free it with drvsign_free). drvsign_stampinf_name
 * writes the output's file name (inf's, a .inx become .inf) as drvsign_signable_formats does.
 */
drvsign_status drvsign_stampinf(const drvsign_params *params, const char *inf,
                                unsigned *inserted_line, drvsign_diag *diag);
drvsign_status drvsign_stampinf_buffer(const drvsign_params *params, const char *inf,
                                       const unsigned char *data, size_t len, unsigned char **out,
                                       size_t *out_len, unsigned *inserted_line,
                                       drvsign_diag *diag);
size_t drvsign_stampinf_name(const char *inf, char *buf, size_t size);

/*
 * Helpers for front ends, so that what they report and write behaves as the library's own.
 *
 * drvsign_diag_report: one line through diag, formed as the library forms its lines
 * ("where:line: message"; line 0: "where: message"; where NULL: the message alone; a newline
 * in it becomes a space), counted, a warning dropped when diag is quiet.
 */
#if defined(__GNUC__) || defined(__clang__)
#define DRVSIGN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DRVSIGN_PRINTF(a, b)
#endif
void drvsign_diag_report(drvsign_diag *diag, int is_error, const char *where, unsigned line,
                         const char *fmt, ...) DRVSIGN_PRINTF(5, 6);
/* The whole of a file of at most max bytes, NUL-terminated (not counted in *len): free it with
 * drvsign_free. A missing, unreadable or larger file is one error naming path. */
drvsign_status drvsign_read_file(const char *path, size_t max, unsigned char **data, size_t *len,
                                 drvsign_diag *diag);
void drvsign_free(void *p);
/* Create dir and any missing parents. */
drvsign_status drvsign_make_dirs(const char *dir, drvsign_diag *diag);
/* Copy from to to, written beside to and renamed into place (so to is never half-written,
 * even after a signal), with from's permissions. */
drvsign_status drvsign_copy_file(const char *from, const char *to, drvsign_diag *diag);
/* Whether a and b are the same name as Windows and the library match file and INF names:
 * equal but for the case of ASCII letters, whatever the C locale. */
int drvsign_same_name(const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif

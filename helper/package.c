/*
 * drvsign_package: the pipeline the CMake module drives, one step per build rule, all read
 * from one manifest (key=value lines the module writes), so CMake and the CLI share one
 * parameter model and command lines stay short. Steps:
 *
 *   plan            (configure time) stamp the INF in memory, lay the package out, print it
 *   stamp OUT       StampInf: DriverVer, $ARCH$, $KMDFVERSION$, $UMDFVERSION$
 *   stage NAME      copy one file into the package; boot-start binaries are signed on the way
 *   catalog         Inf2Cat into the work directory (unsigned)
 *   sign-catalog    sign (or, with signing off, copy) the catalogs into the package
 *   cab             the submission cabinet, signed        archive    the zip/tar archive
 *   summary         where everything is, and drvsign verify --package
 *   resign DIR      (install time) re-sign an installed package with production credentials
 *
 * Secrets never appear here: credentials are file paths or pkcs11: URIs from the manifest or
 * the environment, and passwords come from DRVSIGN_PASSWORD_FILE or DRVSIGN_PASSWORD.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driverpkg.h"
#include "inf.h"
#include "port.h"

#ifdef _WIN32
#define strtok_r strtok_s
#endif

typedef struct list {
    char **v;
    size_t n;
} list;

typedef struct manifest {
    const char *path;
    char *name, *inf, *arch, *output, *work, *identity, *cab, *archive, *archive_format, *ca;
    char *sign_mode, *driver_version, *driver_date, *kmdf, *umdf;
    char *pfx, *cert, *key, *password_file, *pkcs11_module, *signer_command, *signatures;
    list os, files, provides, boot_start, timestamps, add_certs, signer_args;
    int catalog_version, page_hashes;
} manifest;

static int list_add(list *l, const char *s)
{
    char **bigger = realloc(l->v, (l->n + 1) * sizeof *bigger);
    if (bigger == NULL)
        return -1;
    l->v = bigger;
    l->v[l->n] = drv_strdup(s);
    return l->v[l->n] ? (l->n++, 0) : -1;
}

static void list_free(list *l)
{
    drv_free_list(l->v, l->n);
    l->v = NULL;
    l->n = 0;
}

static void manifest_free(manifest *m)
{
    char **scalars[] = {&m->name, &m->inf, &m->arch, &m->output, &m->work, &m->identity, &m->ca,
                        &m->cab, &m->archive, &m->archive_format, &m->sign_mode,
                        &m->driver_version, &m->driver_date, &m->kmdf, &m->umdf, &m->pfx,
                        &m->cert, &m->key, &m->password_file, &m->pkcs11_module,
                        &m->signer_command, &m->signatures};
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

static int manifest_load(manifest *m, const char *path, drvsign_diag *diag)
{
    static const struct {
        const char *key;
        size_t offset;
    } scalars[] = {
        {"name", offsetof(manifest, name)},         {"inf", offsetof(manifest, inf)},
        {"arch", offsetof(manifest, arch)},         {"output", offsetof(manifest, output)},
        {"work", offsetof(manifest, work)},         {"identity", offsetof(manifest, identity)},
        {"cab", offsetof(manifest, cab)},           {"archive", offsetof(manifest, archive)},
        {"archive_format", offsetof(manifest, archive_format)},
        {"sign_mode", offsetof(manifest, sign_mode)},
        {"driver_version", offsetof(manifest, driver_version)},
        {"driver_date", offsetof(manifest, driver_date)},
        {"kmdf_version", offsetof(manifest, kmdf)}, {"umdf_version", offsetof(manifest, umdf)},
        {"pfx", offsetof(manifest, pfx)},           {"cert", offsetof(manifest, cert)},
        {"key", offsetof(manifest, key)},           {"password_file", offsetof(manifest, password_file)},
        {"ca", offsetof(manifest, ca)},
        {"pkcs11_module", offsetof(manifest, pkcs11_module)},
        {"signer_command", offsetof(manifest, signer_command)},
        {"signatures", offsetof(manifest, signatures)},
    };
    static const struct {
        const char *key;
        size_t offset;
    } lists[] = {
        {"os", offsetof(manifest, os)},           {"file", offsetof(manifest, files)},
        {"provides", offsetof(manifest, provides)}, {"boot_start", offsetof(manifest, boot_start)},
        {"timestamp_url", offsetof(manifest, timestamps)},
        {"add_cert", offsetof(manifest, add_certs)},
        {"signer_arg", offsetof(manifest, signer_args)},
    };
    unsigned char *data;
    size_t len;
    char *line, *save = NULL;
    unsigned lineno = 0;
    int rc = 0;

    memset(m, 0, sizeof *m);
    m->path = path;
    if (drv_read_small_file(path, 1u << 20, &data, &len, diag) != 0)
        return -1;
    for (line = strtok_r((char *)data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *eq, *value;
        size_t k;
        int known = 0;
        lineno++;
        line[strcspn(line, "\r")] = 0;
        if (*line == 0 || *line == '#')
            continue;
        eq = strchr(line, '=');
        if (eq == NULL) {
            drv_error_at(diag, path, lineno, "expected key=value");
            rc = -1;
            continue;
        }
        *eq = 0;
        value = eq + 1;
        for (k = 0; k < sizeof scalars / sizeof scalars[0] && !known; k++)
            if (strcmp(line, scalars[k].key) == 0) {
                char **slot = (char **)((char *)m + scalars[k].offset);
                free(*slot);
                *slot = *value ? drv_strdup(value) : NULL; /* empty means not set */
                known = 1;
            }
        for (k = 0; k < sizeof lists / sizeof lists[0] && !known; k++)
            if (strcmp(line, lists[k].key) == 0) {
                if (*value && list_add((list *)((char *)m + lists[k].offset), value) != 0)
                    rc = -1;
                known = 1;
            }
        if (!known && strcmp(line, "catalog_version") == 0)
            m->catalog_version = atoi(value), known = 1;
        if (!known && strcmp(line, "page_hashes") == 0)
            m->page_hashes = atoi(value), known = 1;
        if (!known) {
            drv_error_at(diag, path, lineno, "unknown key '%s'", line);
            rc = -1;
        }
    }
    free(data);
    if (rc == 0 && (m->name == NULL || m->inf == NULL || m->output == NULL || m->work == NULL)) {
        drv_error(diag, path, "the manifest needs name, inf, output and work");
        rc = -1;
    }
    if (rc == 0 && m->sign_mode == NULL)
        m->sign_mode = drv_strdup("test");
    if (rc != 0)
        manifest_free(m);
    return rc;
}

static void log_step(const manifest *m, const char *step, const char *arg)
{
    /* one line per step run: how the tests see that an incremental build did nothing */
    char *path = drv_path_join(m->work, "steps.log");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (f != NULL) {
        fprintf(f, "%s%s%s\n", step, arg ? " " : "", arg ? arg : "");
        fclose(f);
    }
    free(path);
}

/* Create dir and its parents. */
static int make_dirs(const char *dir, drvsign_diag *diag)
{
    char *copy = drv_strdup(dir);
    int rc = 0;
    if (copy == NULL)
        return -1;
    for (char *p = copy + 1; *p && rc == 0; p++)
        if (*p == '/') {
            *p = 0;
            if (!drv_is_dir(copy))
                rc = drv_mkdir(copy, diag);
            *p = '/';
        }
    if (rc == 0 && !drv_is_dir(copy))
        rc = drv_mkdir(copy, diag);
    free(copy);
    return rc;
}

static int copy_file(const char *from, const char *to, drvsign_diag *diag)
{
    drv_file f;
    drv_atomic a;
    int rc = -1;
    if (drv_file_open(&f, from, diag) != 0)
        return -1;
    if (drv_atomic_open(&a, to, from, diag) == 0) {
        if (drv_atomic_copy(&a, &f, 0, f.size, diag) == 0 && drv_atomic_commit(&a, diag) == 0)
            rc = 0;
        drv_atomic_abort(&a);
    }
    drv_file_close(&f);
    return rc;
}

/* ---- StampInf ---- */

static char *inf_output_name(const manifest *m)
{
    const char *b = drv_base_name(m->inf);
    size_t n = strlen(b);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, b, n + 1);
    if (n > 4 && drv_strcasecmp(out + n - 4, ".inx") == 0)
        memcpy(out + n - 4, ".inf", 4);
    return out;
}

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static int text_put(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        char *p;
        while (cap < t->len + n + 1)
            cap *= 2;
        if ((p = realloc(t->p, cap)) == NULL)
            return -1;
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
    return 0;
}

/* The DriverVer date: DRIVER_DATE, else SOURCE_DATE_EPOCH's day, else today (UTC). */
static void driver_date(const manifest *m, char *out, size_t size, drvsign_diag *diag)
{
    time_t t;
    struct tm tm;
    if (m->driver_date != NULL) {
        snprintf(out, size, "%s", m->driver_date);
        return;
    }
    t = (time_t)drv_source_date_epoch(diag);
    if (t == 0)
        t = time(NULL);
#ifdef _WIN32
    gmtime_s(&tm, &t);
#else
    gmtime_r(&t, &tm);
#endif
    snprintf(out, size, "%02d/%02d/%04d", tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900);
}

/* Replace the $TOKEN$s and set DriverVer in [Version], line by line, as StampInf does: with
 * DRIVER_VERSION or DRIVER_DATE given, always; without, only where the INF leaves DriverVer to
 * the stamping (no DriverVer, or one without a date, as Visual Studio's templates have), with
 * the date of driver_date(). *inserted: the output
 * line of a DriverVer line the source did not have, else 0 (every other line keeps its
 * number, so errors map back to the source). */
static int stamp_text(const manifest *m, const char *in, text *out, unsigned *inserted,
                      drvsign_diag *diag)
{
    static const char *const tokens[] = {"$ARCH$", "$KMDFVERSION$", "$UMDFVERSION$"};
    const char *values[] = {m->arch, m->kmdf, m->umdf};
    const char *names[] = {"ARCH", "KMDF_VERSION", "UMDF_VERSION"};
    int in_version = 0, stamped = 0, want_ver = m->driver_version || m->driver_date;
    char driver_ver[128] = "", date[48] = "";
    const char *p = in;
    unsigned lineno = 0;

    *inserted = 0;
    driver_date(m, date, sizeof date, diag);
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p + 1) : strlen(p);
        char line[4096];
        const char *s;
        lineno++;
        if (n >= sizeof line) {
            drv_error_at(diag, m->inf, lineno, "line too long to stamp");
            return -1;
        }
        memcpy(line, p, n);
        line[n] = 0;
        p += n;
        for (size_t t = 0; t < 3; t++) {
            char *at;
            while ((at = strstr(line, tokens[t])) != NULL) {
                size_t tl = strlen(tokens[t]), vl;
                if (values[t] == NULL) {
                    drv_error_at(diag, m->inf, lineno, "the INF uses %s, but no %s was given",
                                 tokens[t], names[t]);
                    return -1;
                }
                vl = strlen(values[t]);
                if (strlen(line) - tl + vl >= sizeof line)
                    return -1;
                memmove(at + vl, at + tl, strlen(at + tl) + 1);
                memcpy(at, values[t], vl);
            }
        }
        for (s = line; *s == ' ' || *s == '\t'; s++)
            ;
        if (*s == '[') {
            char name[64];
            size_t k = 0;
            for (s++; *s && *s != ']' && k + 1 < sizeof name; s++)
                if (*s != ' ' && *s != '\t')
                    name[k++] = *s;
            name[k] = 0;
            if (in_version && !stamped) {
                /* [Version] had no DriverVer: add one before the next section */
                if (text_put(out, driver_ver, strlen(driver_ver)) != 0)
                    return -1;
                stamped = 1;
                *inserted = lineno;
            }
            in_version = drv_strcasecmp(name, "Version") == 0;
            if (in_version) {
                char version[64] = "";
                snprintf(version, sizeof version, "%s", m->driver_version ? m->driver_version : "");
                snprintf(driver_ver, sizeof driver_ver, "DriverVer = %s%s%s\r\n", date,
                         *version ? "," : "", version);
            }
        } else if (in_version && !stamped) {
            const char *k = s;
            size_t kl = 0;
            while (k[kl] && k[kl] != '=' && k[kl] != ' ' && k[kl] != '\t')
                kl++;
            if (kl == 9) {
                char key[10];
                memcpy(key, k, 9);
                key[9] = 0;
                if (drv_strcasecmp(key, "DriverVer") == 0) {
                    const char *value = k + kl;
                    while (*value == ' ' || *value == '\t' || *value == '=')
                        value++;
                    stamped = 1;
                    if (!want_ver && *value != ',' && *value != ';' && *value != '\r' &&
                        *value != '\n' && *value != 0) {
                        /* a dated DriverVer, and nothing asked to restamp it: as written */
                        if (text_put(out, line, strlen(line)) != 0)
                            return -1;
                        continue;
                    }
                    /* keep a version the caller did not replace */
                    if (m->driver_version == NULL) {
                        const char *comma = strchr(k, ','), *semi = strchr(k, ';');
                        if (comma != NULL && (semi == NULL || comma < semi)) {
                            char kept[64];
                            size_t kl2 = strcspn(comma + 1, " \t\r\n;");
                            snprintf(kept, sizeof kept, "%.*s", (int)kl2, comma + 1);
                            snprintf(driver_ver, sizeof driver_ver, "DriverVer = %s,%s\r\n", date,
                                     kept);
                        }
                    }
                    if (text_put(out, driver_ver, strlen(driver_ver)) != 0)
                        return -1;
                    continue;
                }
            }
        }
        if (text_put(out, line, strlen(line)) != 0)
            return -1;
    }
    if (in_version && !stamped) {
        if (text_put(out, driver_ver, strlen(driver_ver)) != 0)
            return -1;
        *inserted = lineno + 1;
    }
    return 0;
}

/* m->inf as text to stamp: UTF-16LE is narrowed, non-ASCII units marked 0x7f (the parts
 * StampInf touches are ASCII). *data keeps the file as read. */
static int stamp_source(const manifest *m, unsigned char **data, size_t *len, text *in,
                        int *utf16, drvsign_diag *diag)
{
    if (drv_read_small_file(m->inf, 64u << 20, data, len, diag) != 0)
        return -1;
    *utf16 = *len >= 2 && (*data)[0] == 0xff && (*data)[1] == 0xfe;
    if (*utf16) {
        for (size_t i = 2; i + 1 < *len; i += 2) {
            unsigned u = (*data)[i] | (*data)[i + 1] << 8;
            char c = u < 0x80 ? (char)u : 0x7f;
            if (text_put(in, &c, 1) != 0)
                return -1;
        }
    } else if (text_put(in, (const char *)*data, *len) != 0)
        return -1;
    return in->p == NULL ? text_put(in, "", 0) : 0;
}

/* Stamp m->inf into out_path, keeping its encoding (UTF-16LE stays UTF-16LE). */
static int stamp_inf(const manifest *m, const char *out_path, drvsign_diag *diag)
{
    char *parent = drv_strdup(out_path), *slash = parent ? strrchr(parent, '/') : NULL;
    unsigned char *data = NULL;
    size_t len;
    text in = {0}, out = {0};
    drv_atomic a;
    int utf16, rc = -1;
    unsigned inserted;

    if (slash != NULL) {
        *slash = 0;
        if (*parent && make_dirs(parent, diag) != 0) {
            free(parent);
            return -1;
        }
    }
    free(parent);
    if (stamp_source(m, &data, &len, &in, &utf16, diag) != 0)
        goto done;
    if (utf16) {
        /* non-ASCII UTF-16 units were marked 0x7f: stamp, then put the originals back */
        size_t src = 2;
        text o16 = {0};
        if (stamp_text(m, in.p, &out, &inserted, diag) != 0)
            goto done;
        if (text_put(&o16, "\xff\xfe", 2) != 0)
            goto done;
        for (size_t i = 0; i < out.len; i++) {
            unsigned char c = (unsigned char)out.p[i];
            char u[2] = {(char)c, 0};
            if (c == 0x7f) {
                while (src + 1 < len && (data[src] | data[src + 1] << 8) < 0x80)
                    src += 2;
                if (src + 1 < len) {
                    u[0] = (char)data[src];
                    u[1] = (char)data[src + 1];
                    src += 2;
                }
            }
            if (text_put(&o16, u, 2) != 0) {
                free(o16.p);
                goto done;
            }
        }
        free(out.p);
        out = o16;
    } else if (stamp_text(m, in.p, &out, &inserted, diag) != 0)
        goto done;
    if (drv_atomic_open(&a, out_path, NULL, diag) != 0)
        goto done;
    if (drv_atomic_write(&a, out.p, out.len, diag) == 0 && drv_atomic_commit(&a, diag) == 0)
        rc = 0;
    drv_atomic_abort(&a);
done:
    free(in.p);
    free(out.p);
    free(data);
    return rc;
}

/* ---- planning ---- */

typedef struct plan {
    drv_pkg pkg;
    char *inf_name;
} plan;

/* Stamp the INF into work/plan and lay the package out from it; files need not exist. */
static int make_plan(const manifest *m, plan *pl, drvsign_diag *diag)
{
    char *dir = drv_path_join(m->work, "plan"), *inf_path = NULL;
    const drv_os **os = NULL;
    size_t os_count = 0;
    drv_pkg_opts opts = {0};
    int rc = -1;

    memset(pl, 0, sizeof *pl);
    pl->inf_name = inf_output_name(m);
    if (dir == NULL || pl->inf_name == NULL || make_dirs(dir, diag) != 0)
        goto done;
    inf_path = drv_path_join(dir, pl->inf_name);
    if (inf_path == NULL || stamp_inf(m, inf_path, diag) != 0)
        goto done;
    if (drv_parse_os_list((const char *const *)m->os.v, m->os.n, &os, &os_count, diag) != 0)
        goto done;
    opts.os = os;
    opts.os_count = os_count;
    opts.plan_only = 1;
    rc = drv_pkg_analyze(dir, &opts, &pl->pkg, diag);
done:
    free(os);
    free(inf_path);
    free(dir);
    return rc;
}

static void plan_free(plan *pl)
{
    drv_pkg_free(&pl->pkg);
    free(pl->inf_name);
}

/* The file that provides NAME: a file= entry (build time) or a provides= entry (configure time). */
static const char *provider(const manifest *m, const char *name, int configure)
{
    const list *l = configure ? &m->provides : &m->files;
    for (size_t i = 0; i < l->n; i++)
        if (drv_strcasecmp(drv_base_name(l->v[i]), name) == 0)
            return l->v[i];
    return NULL;
}

static int step_plan(const manifest *m, FILE *report, drvsign_diag *diag)
{
    plan pl;
    int failed = 0;
    if (make_plan(m, &pl, diag) != 0) {
        plan_free(&pl);
        return -1;
    }
    fprintf(report, "inf|%s\n", pl.inf_name);
    for (size_t c = 0; c < pl.pkg.count; c++) {
        drv_pkg_catalog *cat = &pl.pkg.catalogs[c];
        fprintf(report, "catalog|%s\n", cat->name);
        for (size_t i = 1; i < cat->file_count; i++) { /* [0] is the INF */
            if (provider(m, cat->files[i].source_name, 1) == NULL) {
                drv_error(diag, m->inf,
                          "the INF copies %s (to %s), but no TARGETS or FILES entry provides it",
                          cat->files[i].source_name, cat->files[i].rel);
                failed = 1;
            }
            fprintf(report, "file|%s|%s\n", cat->files[i].source_name, cat->files[i].rel);
        }
    }
    plan_free(&pl);
    return failed ? -1 : 0;
}

/* ---- signing parameters ---- */

static void split_into(list *l, const char *csv)
{
    char *copy = csv ? drv_strdup(csv) : NULL, *save = NULL, *tok;
    for (tok = copy ? strtok_r(copy, ";,", &save) : NULL; tok != NULL; tok = strtok_r(NULL, ";,", &save))
        list_add(l, tok);
    free(copy);
}

/* What the signer parameters point into; owned by the caller. */
typedef struct holder {
    list strings, add_certs, timestamps;
} holder;

static void holder_free(holder *h)
{
    list_free(&h->strings);
    list_free(&h->add_certs);
    list_free(&h->timestamps);
}

/* The signer: the build tree's test identity, or production credentials from the environment
 * (at build or install time) or the manifest (CMake cache variables). */
static int signer_params(const manifest *m, int production, drvsign_params *p, holder *h,
                         drvsign_diag *diag)
{
    list *keep = &h->strings;
    const char *env;
    if (!production) {
        char *pfx = drv_path_join(m->identity, "signing.pfx");
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
        p->signer_command = (env = getenv("DRVSIGN_SIGNER_COMMAND")) && *env ? env : m->signer_command;
        if (p->signer_command == NULL && m->signer_args.n > 0) {
            p->signer_argv = (const char *const *)m->signer_args.v;
            p->signer_argc = m->signer_args.n;
        }
        if (getenv("DRVSIGN_PASSWORD") != NULL)
            p->password_env = "DRVSIGN_PASSWORD";
        if (p->pfx == NULL && (p->cert == NULL || (p->key == NULL && p->signer_command == NULL &&
                                                   p->signer_argc == 0))) {
            drv_error(diag, m->path, "%sproduction signing needs DRVSIGN_PFX (with "
                                     "DRVSIGN_PASSWORD_FILE), DRVSIGN_CERT and DRVSIGN_KEY, or "
                                     "DRVSIGN_CERT and DRVSIGN_SIGNER_COMMAND, in the environment "
                                     "or the CMake cache",
                      m->signatures ? "no stored signature matches, and " : "");
            return -1;
        }
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
    return 0;
}

static int signing(const manifest *m)
{
    return strcmp(m->sign_mode, "off") != 0;
}

static int production(const manifest *m)
{
    return strcmp(m->sign_mode, "production") == 0;
}

static int is_boot_start(const manifest *m, const char *name)
{
    for (size_t i = 0; i < m->boot_start.n; i++)
        if (drv_strcasecmp(drv_base_name(m->boot_start.v[i]), name) == 0)
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

/* SIGNATURES/<rel>.p7, where rel is the file's path in the package (or the cabinet's name). */
static char *stored_signature(const manifest *m, const char *rel)
{
    size_t n = strlen(rel) + 4;
    char *leaf = malloc(n), *path;
    if (leaf == NULL)
        return NULL;
    snprintf(leaf, n, "%s.p7", rel);
    path = drv_path_join(m->signatures, leaf);
    free(leaf);
    return path;
}

/*
 * Sign source into dest. With SIGNATURES, a stored signature that signs this very content is
 * attached instead, so a rebuild needs no key; otherwise the file is signed and its signature
 * stored for the next build.
 */
static int sign_file(const manifest *m, int production_keys, const char *source, const char *dest,
                     const char *rel, int page_hashes, drvsign_diag *diag)
{
    char *stored = m->signatures ? stored_signature(m, rel) : NULL;
    drvsign_params p = {0};
    holder keep = {0};
    int rc = -1;

    if (m->signatures != NULL && stored == NULL)
        return -1;
    if (stored != NULL && drv_file_exists(stored)) {
        first_error why = {{0}};
        drvsign_diag quiet = {.emit = keep_first_error, .ctx = &why, .quiet = 1};
        drvsign_params a = {0};
        a.signature = stored;
        a.out = dest;
        a.quiet = 1;
        if (drvsign_attach(&a, source, &quiet) == DRVSIGN_OK) {
            free(stored);
            return 0;
        }
        drv_warn(diag, stored, "this stored signature does not sign %s as built now (%s); "
                               "signing it again",
                 rel, why.line);
    }
    if (signer_params(m, production_keys, &p, &keep, diag) == 0) {
        p.out = dest;
        p.page_hashes = page_hashes;
        rc = drvsign_sign(&p, &source, 1, diag) == DRVSIGN_OK ? 0 : -1;
    }
    holder_free(&keep);
    if (rc == 0 && stored != NULL) {
        drvsign_params x = {0};
        char *parent = drv_strdup(stored), *slash = parent ? strrchr(parent, '/') : NULL;
        if (slash != NULL)
            *slash = 0;
        x.out = stored;
        rc = parent != NULL && make_dirs(parent, diag) == 0 &&
                     drvsign_extract(&x, dest, diag) == DRVSIGN_OK
                 ? 0
                 : -1;
        free(parent);
    }
    free(stored);
    return rc;
}

/* ---- build steps ---- */

static int step_stage(const manifest *m, const char *name, drvsign_diag *diag)
{
    plan pl;
    const char *rel = NULL, *source = NULL;
    char *dest = NULL, *stamped = NULL;
    int rc = -1;

    if (make_plan(m, &pl, diag) != 0)
        goto done;
    if (drv_strcasecmp(name, pl.inf_name) == 0) {
        stamped = drv_path_join(m->work, pl.inf_name);
        source = stamped;
        rel = pl.inf_name;
    } else {
        for (size_t c = 0; c < pl.pkg.count && rel == NULL; c++)
            for (size_t i = 1; i < pl.pkg.catalogs[c].file_count && rel == NULL; i++)
                if (drv_strcasecmp(pl.pkg.catalogs[c].files[i].source_name, name) == 0)
                    rel = pl.pkg.catalogs[c].files[i].rel;
        source = provider(m, name, 0);
        if (rel == NULL && source != NULL)
            rel = name; /* a FILES entry the INF does not copy: beside the INF */
    }
    if (rel == NULL || source == NULL) {
        drv_error(diag, m->path, "%s is not part of package %s", name, m->name);
        goto done;
    }
    dest = drv_path_join(m->output, rel);
    if (dest == NULL)
        goto done;
    {
        char *slash = strrchr(dest, '/');
        *slash = 0;
        if (make_dirs(dest, diag) != 0)
            goto done;
        *slash = '/';
    }
    if (is_boot_start(m, name) && signing(m))
        /* the linker's output stays as it was: the staged copy gets the signature */
        rc = sign_file(m, production(m), source, dest, rel, 1, diag);
    else
        rc = copy_file(source, dest, diag);
done:
    free(dest);
    free(stamped);
    plan_free(&pl);
    return rc;
}

static drvsign_params catalog_params(const manifest *m, const char *const *os_lists)
{
    drvsign_params p = {0};
    p.os_lists = os_lists;
    p.os_list_count = m->os.n;
    p.catalog_version = m->catalog_version ? m->catalog_version : 1;
    p.page_hashes = m->page_hashes;
    p.quiet = 1;
    return p;
}

static int step_catalog(const manifest *m, FILE *report, drvsign_diag *diag)
{
    char *dir = drv_path_join(m->work, "unsigned");
    drvsign_params p = catalog_params(m, (const char *const *)m->os.v);
    int rc = -1;
    if (dir != NULL && make_dirs(dir, diag) == 0) {
        p.driver_dir = m->output;
        p.catalog_dir = dir;
        rc = drvsign_catalog(&p, NULL, 0, report, diag) == DRVSIGN_OK ? 0 : -1;
    }
    free(dir);
    return rc;
}

static int step_sign_catalogs(const manifest *m, const char *dir, int force_production,
                              drvsign_diag *diag)
{
    plan pl;
    int rc = 0;
    if (make_plan(m, &pl, diag) != 0) {
        plan_free(&pl);
        return -1;
    }
    for (size_t c = 0; c < pl.pkg.count && rc == 0; c++) {
        const char *name = pl.pkg.catalogs[c].name;
        char *target = drv_path_join(dir ? dir : m->output, name);
        char *unsigned_dir = drv_path_join(m->work, "unsigned");
        char *source = dir ? drv_strdup(target) : unsigned_dir ? drv_path_join(unsigned_dir, name) : NULL;
        if (target == NULL || source == NULL)
            rc = -1;
        else if (!signing(m) && !force_production)
            rc = copy_file(source, target, diag);
        else if (!force_production)
            rc = sign_file(m, production(m), source, target, name, 0, diag);
        else {
            /* install time: release-sign with the credentials found now */
            drvsign_params p = {0};
            holder keep = {0};
            const char *in = source;
            rc = signer_params(m, 1, &p, &keep, diag);
            if (rc == 0) {
                p.out = target;
                rc = drvsign_sign(&p, &in, 1, diag) == DRVSIGN_OK ? 0 : -1;
            }
            holder_free(&keep);
        }
        free(target);
        free(source);
        free(unsigned_dir);
    }
    plan_free(&pl);
    return rc;
}

static int step_cab(const manifest *m, const char *dir, const char *out, int force_production,
                    FILE *report, drvsign_diag *diag)
{
    drvsign_params p = {0};
    holder keep = {0};
    const char *dirs[1];
    int rc = 0;
    /* the cabinet folder is named after the package */
    dirs[0] = dir;
    if (m->signatures != NULL && signing(m) && !force_production) {
        /* pack unsigned, then attach the stored signature or sign (and store) */
        p.out = out;
        p.quiet = 1;
        if (drvsign_cab(&p, dirs, 1, report, diag) != DRVSIGN_OK)
            return -1;
        return sign_file(m, production(m), out, out, drv_base_name(out), 0, diag);
    }
    if ((signing(m) || force_production) &&
        signer_params(m, force_production || production(m), &p, &keep, diag) != 0)
        rc = -1;
    if (rc == 0) {
        p.out = out;
        p.quiet = 1;
        rc = drvsign_cab(&p, dirs, 1, report, diag) == DRVSIGN_OK ? 0 : -1;
    }
    holder_free(&keep);
    return rc;
}

static int step_summary(const manifest *m, FILE *report, drvsign_diag *diag)
{
    drvsign_params p = {0};
    char *root = m->identity && !production(m) ? drv_path_join(m->identity, "root.pem") : NULL;
    int rc;
    fprintf(report, "drvsign: package %s: %s\n", m->name, m->output);
    if (m->cab)
        fprintf(report, "drvsign: submission cabinet: %s\n", m->cab);
    if (m->archive)
        fprintf(report, "drvsign: archive: %s\n", m->archive);
    if (!signing(m)) {
        fprintf(report, "drvsign: signing is off (SIGN_MODE off): the package is not signed\n");
        free(root);
        return 0;
    }
    if (root != NULL)
        fprintf(report, "drvsign: test-signed; the test root for test machines: %s/root.cer\n",
                m->identity);
    p.package = m->output;
    p.ca_file = root ? root : m->ca;
    p.os_lists = (const char *const *)m->os.v;
    p.os_list_count = m->os.n;
    rc = drvsign_verify(&p, NULL, 0, report, diag) == DRVSIGN_OK ? 0 : -1;
    free(root);
    return rc;
}

/* ---- problems name the user's INF ---- */

/* The INF copies the pipeline works on (the plan's, the package's, a stamp output) are
 * stamped from m->inf line for line, so a problem found in one is reported against m->inf,
 * the file the user edits, at its own line. */
typedef struct source_map {
    drvsign_diag *user;
    const char *source;
    char *copies[4];
    unsigned inserted; /* the copies' line that m->inf does not have (an added DriverVer) */
} source_map;

static void source_map_emit(void *ctx, int is_error, const char *line)
{
    source_map *sm = ctx;
    char mapped[1024];
    for (size_t i = 0; i < sizeof sm->copies / sizeof sm->copies[0]; i++) {
        size_t n = sm->copies[i] ? strlen(sm->copies[i]) : 0;
        const char *rest = line + n + 1;
        char *end;
        unsigned long lineno;
        if (n == 0 || strncmp(line, sm->copies[i], n) != 0 || line[n] != ':')
            continue;
        lineno = strtoul(rest, &end, 10);
        if (end != rest && *end == ':' && lineno > 0) {
            if (sm->inserted != 0 && lineno >= sm->inserted)
                lineno--; /* the added line is reported at the one before it */
            snprintf(mapped, sizeof mapped, "%s:%lu:%s", sm->source, lineno, end + 1);
        } else
            snprintf(mapped, sizeof mapped, "%s:%s", sm->source, rest);
        line = mapped;
        break;
    }
    if (is_error)
        drv_error(sm->user, NULL, "%s", line);
    else
        drv_warn(sm->user, NULL, "%s", line);
}

static void source_map_init(source_map *sm, const manifest *m, const char *step,
                            const char *arg, drvsign_diag *user)
{
    char *name = inf_output_name(m), *plan_dir = drv_path_join(m->work, "plan");
    drvsign_diag quiet = {0};
    unsigned char *data = NULL;
    size_t len;
    text in = {0}, out = {0};
    int utf16;

    memset(sm, 0, sizeof *sm);
    sm->user = user;
    sm->source = m->inf;
    if (name != NULL && plan_dir != NULL) {
        sm->copies[0] = drv_path_join(plan_dir, name);
        sm->copies[1] = drv_path_join(m->output, name);
        if (arg != NULL && strcmp(step, "resign") == 0)
            sm->copies[2] = drv_path_join(arg, name);
    }
    if (arg != NULL && strcmp(step, "stamp") == 0)
        sm->copies[3] = drv_strdup(arg);
    quiet.quiet = 1;
    if (stamp_source(m, &data, &len, &in, &utf16, &quiet) == 0)
        stamp_text(m, in.p, &out, &sm->inserted, &quiet);
    free(in.p);
    free(out.p);
    free(data);
    free(name);
    free(plan_dir);
}

static void source_map_free(source_map *sm)
{
    for (size_t i = 0; i < sizeof sm->copies / sizeof sm->copies[0]; i++)
        free(sm->copies[i]);
}

drvsign_status drvsign_package(const char *manifest_path, const char *step, const char *arg,
                               FILE *report, drvsign_diag *user_diag)
{
    manifest m;
    source_map sm;
    drvsign_diag mapped = {.emit = source_map_emit}, *diag = user_diag;
    int rc = -1;

    if (manifest_path == NULL || step == NULL) {
        drv_error(diag, NULL, "package needs --manifest FILE and a step");
        return DRVSIGN_USAGE;
    }
    if (manifest_load(&m, manifest_path, diag) != 0)
        return DRVSIGN_FAILED;
    source_map_init(&sm, &m, step, arg, user_diag);
    mapped.ctx = &sm;
    mapped.quiet = user_diag->quiet;
    diag = &mapped;
    if (strcmp(step, "plan") != 0)
        log_step(&m, step, arg ? drv_base_name(arg) : NULL);
    if (strcmp(m.sign_mode, "off") && strcmp(m.sign_mode, "test") && strcmp(m.sign_mode, "production")) {
        drv_error(diag, manifest_path, "sign_mode is off, test or production, not '%s'", m.sign_mode);
    } else if (strcmp(step, "plan") == 0) {
        rc = step_plan(&m, report, diag);
    } else if (strcmp(step, "stamp") == 0 && arg != NULL) {
        rc = stamp_inf(&m, arg, diag);
    } else if (strcmp(step, "stage") == 0 && arg != NULL) {
        rc = step_stage(&m, arg, diag);
    } else if (strcmp(step, "catalog") == 0) {
        rc = step_catalog(&m, report, diag);
    } else if (strcmp(step, "sign-catalog") == 0) {
        rc = step_sign_catalogs(&m, NULL, 0, diag);
    } else if (strcmp(step, "cab") == 0 && m.cab != NULL) {
        rc = step_cab(&m, m.output, m.cab, 0, report, diag);
    } else if (strcmp(step, "archive") == 0 && m.archive != NULL) {
        drvsign_params p = {0};
        const char *dirs[1] = {m.output};
        p.archive_format = m.archive_format ? m.archive_format : "zip";
        p.out = m.archive;
        p.quiet = 1;
        rc = drvsign_archive(&p, dirs, 1, report, diag) == DRVSIGN_OK ? 0 : -1;
    } else if (strcmp(step, "summary") == 0) {
        rc = step_summary(&m, report, diag);
    } else if (strcmp(step, "resign") == 0 && arg != NULL) {
        /* install time: production credentials, the installed copy */
        plan pl;
        rc = make_plan(&m, &pl, diag);
        for (size_t c = 0; rc == 0 && c < pl.pkg.count; c++)
            for (size_t i = 1; rc == 0 && i < pl.pkg.catalogs[c].file_count; i++) {
                drv_pkg_file *f = &pl.pkg.catalogs[c].files[i];
                char *path;
                drvsign_params p = {0};
                holder keep = {0};
                const char *in;
                if (!is_boot_start(&m, f->source_name))
                    continue;
                path = drv_path_join(arg, f->rel);
                in = path;
                rc = path && signer_params(&m, 1, &p, &keep, diag) == 0 &&
                             (p.page_hashes = 1, drvsign_sign(&p, &in, 1, diag)) == DRVSIGN_OK
                         ? 0
                         : -1;
                holder_free(&keep);
                free(path);
            }
        plan_free(&pl);
        if (rc == 0)
            rc = step_sign_catalogs(&m, arg, 1, diag);
        if (rc == 0 && m.cab != NULL) {
            /* the installed package changed: its cabinet is rebuilt beside it */
            char *cab = drv_path_join(arg, "..");
            char *out = cab ? drv_path_join(cab, drv_base_name(m.cab)) : NULL;
            rc = out ? step_cab(&m, arg, out, 1, report, diag) : -1;
            free(out);
            free(cab);
        }
        if (rc == 0)
            fprintf(report, "drvsign: %s: release-signed\n", arg);
    } else {
        drv_error(diag, manifest_path, "unknown package step '%s'%s", step,
                  arg == NULL ? " (or it needs an argument)" : "");
        manifest_free(&m);
        source_map_free(&sm);
        return DRVSIGN_USAGE;
    }
    manifest_free(&m);
    source_map_free(&sm);
    return rc == 0 ? DRVSIGN_OK : DRVSIGN_FAILED;
}

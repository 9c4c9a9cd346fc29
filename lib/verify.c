/*
 * drvsign_verify: for each file, every signature (nested ones included) is checked four ways:
 * the file digest (and page hashes), the PKCS#7 signature, the chain, and the file's own
 * integrity checks (the PE CheckSum). Problems go to the diagnostics, one line each; the
 * report (human or JSON) goes to the report stream.
 */
#include <stdlib.h>
#include <string.h>


#include "authenticode.h"
#include "driverpkg.h"
#include "formats.h"
#include "hash_files.h"
#include "inf.h"
#include "json.h"
#include "port.h" /* strtok_r */
#include "sig_report.h"

#define MAX_SIGS_REPORTED 16

typedef struct sig_result {
    drv_content_check content;
    drv_sig_check sig;
    int nested;
} sig_result;

typedef struct file_result {
    const char *path;
    const char *format;
    int is_catalog; /* the format carries a trust list */
    int ok;
    drv_file_check file_check;
    sig_result sigs[MAX_SIGS_REPORTED];
    size_t sig_count;
    const char *problem; /* a file-level failure (unsigned, unreadable) */
} file_result;

static const char *page_hash_word(int state)
{
    return state == 0 ? "none" : state > 0 ? "verified" : "mismatch";
}

static const char *json_bool(int b)
{
    return b ? "true" : "false";
}

/* Every part of the signature held: digest, page hashes, signature, chain, timestamp. */
static int sig_good(const sig_result *s)
{
    return s->content.digest_ok && s->content.page_hashes >= 0 && s->sig.signature_ok &&
           s->sig.chain_ok && (s->sig.ts_kind == NULL || s->sig.ts_ok);
}

/* The first problem of a signature, for the one-line "problem" field. */
static const char *first_problem(const sig_result *s)
{
    const char *all[4] = {s->content.problem, s->sig.problem, s->sig.ts_problem,
                          s->sig.chain_problem};
    for (size_t i = 0; i < 4; i++)
        if (all[i][0])
            return all[i];
    return "";
}

static const char *chain_time_words(const drv_sig_check *c)
{
    if (c->chain_time_source == NULL)
        return "";
    return strcmp(c->chain_time_source, "timestamp") == 0 ? "the timestamp's time"
           : strcmp(c->chain_time_source, "given") == 0   ? "the given time"
                                                          : "now";
}

/* "chain: trusted, to root ...", or what is wrong with it (problem without its prefix). */
static void chain_line(FILE *out, const char *what, int ok, const char *root, int untrusted,
                       const char *problem)
{
    const char *colon = strstr(problem, ": ");
    if (ok)
        fprintf(out, "    %s: trusted, to root \"%s\"\n", what, root);
    else if (untrusted)
        fprintf(out, "    %s: NOT TRUSTED: it ends at \"%s\", which is not a trusted root\n", what,
                root);
    else
        fprintf(out, "    %s: INVALID: %s\n", what, colon != NULL ? colon + 2 : problem);
}

static void json_opt_string(FILE *out, const char *key, const char *value)
{
    if (value != NULL && value[0]) {
        fprintf(out, ", \"%s\": ", key);
        drv_json_string(out, value);
    }
}

static void report_json(FILE *out, const file_result *r, int first)
{
    fprintf(out, "%s\n    {\"file\": ", first ? "" : ",");
    drv_json_string(out, r->path);
    fprintf(out, ", \"format\": ");
    drv_json_string(out, r->format ? r->format : "unknown");
    fprintf(out, ", \"verified\": %s", json_bool(r->ok));
    if (r->problem != NULL) {
        fprintf(out, ", \"problem\": ");
        drv_json_string(out, r->problem);
    }
    if (r->file_check.name != NULL)
        fprintf(out, ", \"%s\": {\"stored\": \"0x%08X\", \"computed\": \"0x%08X\", \"ok\": %s}",
                r->file_check.name, r->file_check.stored, r->file_check.computed,
                json_bool(r->file_check.ok));
    fprintf(out, ", \"signatures\": [");
    for (size_t i = 0; i < r->sig_count; i++) {
        const sig_result *s = &r->sigs[i];
        const drv_sig_check *c = &s->sig;
        fprintf(out, "%s\n      {\"index\": %zu, \"nested\": %s, \"valid\": %s, ",
                i ? "," : "", i + 1, json_bool(s->nested), json_bool(sig_good(s)));
        drv_report_json_signer(out, c);
        fprintf(out,
                ", \"file_digest_ok\": %s, \"page_hashes\": \"%s\", \"signature_ok\": %s, "
                "\"chain_ok\": %s",
                json_bool(s->content.digest_ok), page_hash_word(s->content.page_hashes),
                json_bool(c->signature_ok), json_bool(c->chain_ok));
        if (c->signature_ok) {
            fprintf(out, ", \"chain\": {\"ok\": %s, \"root\": ", json_bool(c->chain_ok));
            drv_json_string(out, c->root);
            fprintf(out, ", \"root_trusted\": %s, \"usage\": \"code signing\", \"time\": ",
                    json_bool(c->root[0] && !c->root_untrusted));
            drv_json_string(out, c->chain_time_text);
            fprintf(out, ", \"time_source\": \"%s\", \"lifetime_signing\": %s",
                    c->chain_time_source, json_bool(c->lifetime_signing));
            json_opt_string(out, "problem", c->chain_problem);
            fputc('}', out);
        }
        if (c->ts_kind != NULL) {
            fprintf(out, ", ");
            drv_report_json_ts_open(out, c);
            fprintf(out, ", \"ok\": %s", json_bool(c->ts_ok));
            json_opt_string(out, "digest", c->ts_digest);
            json_opt_string(out, "root", c->tsa_root);
            if (c->tsa_root[0])
                fprintf(out, ", \"root_trusted\": %s", json_bool(!c->tsa_root_untrusted));
            if (c->tsa[0])
                fprintf(out, ", \"usage\": \"time stamping\", \"eku_critical\": %s",
                        json_bool(c->tsa_eku_critical));
            json_opt_string(out, "problem", c->ts_problem);
            fputc('}', out);
        }
        json_opt_string(out, "problem", first_problem(s));
        fputc('}', out);
    }
    fprintf(out, "%s]}", r->sig_count ? "\n    " : "");
}

static void report_text(FILE *out, const file_result *r)
{
    fprintf(out, "%s: %s", r->path, r->ok ? "verified" : "FAILED");
    if (r->format != NULL)
        fprintf(out, " (%s, %zu signature%s", r->format, r->sig_count,
                r->sig_count == 1 ? "" : "s");
    if (r->file_check.name != NULL)
        fprintf(out, ", %s 0x%08X%s", r->file_check.name, r->file_check.stored,
                r->file_check.ok ? "" : " WRONG");
    fprintf(out, "%s\n", r->format != NULL ? ")" : "");
    for (size_t i = 0; i < r->sig_count; i++) {
        const sig_result *s = &r->sigs[i];
        const drv_sig_check *c = &s->sig;
        char pages[32] = "";
        if (s->content.page_hashes)
            snprintf(pages, sizeof pages, ", page hashes %s",
                     page_hash_word(s->content.page_hashes));
        drv_report_sig_line(out, i + 1, s->nested, sig_good(s) ? "valid" : "INVALID", c, pages);
        fprintf(out, "    digest: %s%s%s; signature: %s\n",
                s->content.digest_ok ? "matches the file" : "MISMATCH",
                s->content.page_hashes ? ", page hashes " : ", no page hashes",
                s->content.page_hashes ? page_hash_word(s->content.page_hashes) : "",
                c->signature_ok ? "verifies" : "BAD");
        if (c->signature_ok)
            chain_line(out, "chain", c->chain_ok, c->root, c->root_untrusted, c->chain_problem);
        if (c->signature_ok) {
            fprintf(out, "      at %s (%s); EKU code signing%s\n", c->chain_time_text,
                    chain_time_words(c), c->lifetime_signing ? ", lifetime signing" : "");
        }
        if (c->ts_kind != NULL) {
            drv_report_ts_line(out, c, c->ts_ok ? "" : ", INVALID");
            if (c->tsa[0]) {
                chain_line(out, "timestamp chain", c->ts_ok, c->tsa_root, c->tsa_root_untrusted,
                           c->ts_problem);
                fprintf(out, "      digest %s; EKU time stamping (%s)\n",
                        c->ts_digest ? c->ts_digest : "unknown",
                        c->tsa_eku_critical ? "critical" : "not critical");
            } else if (c->ts_problem[0])
                fprintf(out, "    timestamp: INVALID: %s\n", c->ts_problem);
        }
    }
}

static void verify_one(const drvsign_params *params, X509_STORE *store, const char *path,
                       file_result *r, drvsign_diag *diag)
{
    drv_file file;
    const drv_format *fmt = NULL;
    void *state = NULL;
    unsigned char *der = NULL;
    size_t der_len = 0;
    drv_sig *sigs = NULL;
    size_t count = 0;
    const EVP_MD *mds[MAX_SIGS_REPORTED];

    memset(r, 0, sizeof *r);
    r->path = path;
    if (drv_file_open(&file, path, diag) != 0) {
        r->problem = "cannot open the file";
        return;
    }
    fmt = drv_format_for(&file, diag);
    if (fmt == NULL || fmt->open(&file, &state, diag) != 0) {
        r->problem = "not a file drvsign can verify";
        goto done;
    }
    r->format = fmt->name;
    r->is_catalog = fmt->trust_list != NULL;
    if (fmt->signature(state, &der, &der_len, diag) != 0) {
        r->problem = "the signature cannot be read";
        goto done;
    }
    if (der == NULL) {
        r->problem = "the file is not signed";
        drv_error(diag, path, "the file is not signed");
        goto done;
    }
    if (drv_ac_parse_all(der, der_len, &sigs, &count, path, diag) != 0) {
        r->problem = "the signature is malformed";
        goto done;
    }
    if (count > MAX_SIGS_REPORTED)
        count = MAX_SIGS_REPORTED;
    for (size_t i = 0; i < count; i++)
        mds[i] = sigs[i].indirect.md != NULL ? sigs[i].indirect.md : EVP_sha256();
    /* one pass over the file for every digest the signatures need */
    if (fmt->prepare != NULL && fmt->prepare(state, mds, count, 0, diag) != 0) {
        r->problem = "the file cannot be read";
        goto done;
    }
    r->ok = 1;
    for (size_t i = 0; i < count; i++) {
        sig_result *s = &r->sigs[i];
        s->nested = sigs[i].nested;
        if (fmt->check_content(state, &sigs[i], &s->content, diag) != 0) {
            r->ok = 0;
            r->problem = "the file cannot be read";
            goto done;
        }
        drv_ac_check(&sigs[i], store, params->time, &s->sig);
        r->sig_count = i + 1;
        {
            const char *problems[4] = {s->content.problem, s->sig.problem, s->sig.ts_problem,
                                       s->sig.chain_problem};
            for (size_t k = 0; k < 4; k++)
                if (problems[k][0])
                    drv_error(diag, path, "signature %zu: %s", i + 1, problems[k]);
        }
        if ((s->sig.root_untrusted || s->sig.tsa_root_untrusted) && params->untrusted_roots)
            ++*params->untrusted_roots;
        if (!sig_good(s))
            r->ok = 0;
    }
    if (fmt->check_file != NULL) {
        if (fmt->check_file(state, &r->file_check, diag) != 0)
            r->ok = 0;
        else if (!r->file_check.ok) {
            drv_error(diag, path, "the header %s is 0x%08X, but the file's is 0x%08X",
                      r->file_check.name, r->file_check.stored, r->file_check.computed);
            r->ok = 0;
        }
    }
done:
    drv_ac_free_all(sigs, count);
    free(der);
    if (state != NULL)
        fmt->close(state);
    drv_file_close(&file);
}

/* ---- catalog membership ---- */

typedef struct member_result {
    const char *path;
    int found;
    int digest_ok;
    char name[256];
    const char *sip;
    char digest_hex[2 * 32 + 1];
    char problem[256];
} member_result;

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = 0;
}

/* h: the file's digests, or NULL when it could not be hashed (the hashing said why) */
static void check_member(const drv_ctl *ctl, const char *cat_path, const char *path,
                         const drv_member_hash *h, member_result *m, drvsign_diag *diag)
{
    const drv_ctl_member *member;
    const unsigned char *digest;
    size_t len;

    memset(m, 0, sizeof *m);
    m->path = path;
    if (h == NULL) {
        snprintf(m->problem, sizeof m->problem, "cannot be read");
        return;
    }
    digest = ctl->version == 2 ? h->sha256 : h->sha1;
    len = ctl->version == 2 ? 32 : 20;
    hex(digest, len, m->digest_hex);
    m->sip = h->sip->name;
    member = drv_ctl_find(ctl, digest, len);
    if (member == NULL) {
        snprintf(m->problem, sizeof m->problem,
                 "is not in %s: no member has its %s %s digest %s (changed after cataloguing?)",
                 cat_path, h->sip->digest_kind,
                 ctl->version == 2 ? "SHA256" : "SHA1", m->digest_hex);
        drv_error(diag, path, "%s", m->problem);
    } else {
        m->found = 1;
        snprintf(m->name, sizeof m->name, "%s", member->file ? member->file : "");
        /* the indirect data must agree with the tag it is filed under */
        m->digest_ok = member->md == NULL ||
                       (member->digest_len == len && memcmp(member->digest, digest, len) == 0);
        if (!m->digest_ok) {
            snprintf(m->problem, sizeof m->problem,
                     "the catalog member's indirect data does not match its tag");
            drv_error(diag, path, "%s", m->problem);
        }
    }
}

static void report_member(FILE *out, const member_result *m, int json, int first)
{
    if (json) {
        fprintf(out, "%s\n      {\"file\": ", first ? "" : ",");
        drv_json_string(out, m->path);
        fprintf(out, ", \"in_catalog\": %s", m->found && m->digest_ok ? "true" : "false");
        if (m->found) {
            fprintf(out, ", \"name\": ");
            drv_json_string(out, m->name);
        }
        if (m->sip != NULL)
            fprintf(out, ", \"sip\": \"%s\", \"digest\": \"%s\"", m->sip, m->digest_hex);
        if (m->problem[0]) {
            fprintf(out, ", \"problem\": ");
            drv_json_string(out, m->problem);
        }
        fputc('}', out);
    } else if (m->found && m->digest_ok)
        fprintf(out, "  member   %s (as %s, %s)\n", m->path, m->name, m->sip);
    else
        fprintf(out, "  MISSING  %s\n", m->path);
}

/* The catalog's own signature, then every file's membership. Returns 1 if all pass. */
static int verify_catalog_and_members(const drvsign_params *params, X509_STORE *store,
                                      const char *cat_path, const char *const *paths,
                                      size_t count, FILE *report, file_result *r,
                                      drvsign_diag *diag)
{
    drv_ctl ctl;
    drv_member_hash *hashes = NULL;
    unsigned char *failed = NULL;
    int ok;

    verify_one(params, store, cat_path, r, diag);
    ok = r->ok;
    if (r->format != NULL && !r->is_catalog) {
        drv_error(diag, cat_path, "not a catalog");
        r->ok = ok = 0;
    }
    if (params->json) {
        fprintf(report, "{\"catalog\": ");
        report_json(report, r, 1);
        fprintf(report, ",\n    \"members\": [");
    } else
        report_text(report, r);
    if (drv_catalog_load(cat_path, &ctl, diag) != 0) {
        if (params->json)
            fprintf(report, "]}");
        return 0;
    }
    /* every file hashed first, on every core; then each is looked up and reported in order */
    hashes = calloc(count ? count : 1, sizeof *hashes);
    failed = calloc(count ? count : 1, 1);
    if (hashes == NULL || failed == NULL) {
        drv_error(diag, cat_path, "out of memory");
        ok = 0;
        count = 0;
    } else
        drv_hash_files(paths, count, ctl.version == 2, 0, 0, hashes, failed, diag);
    for (size_t i = 0; i < count; i++) {
        member_result m;
        check_member(&ctl, cat_path, paths[i], failed[i] ? NULL : &hashes[i], &m, diag);
        ok &= m.found && m.digest_ok;
        report_member(report, &m, params->json, i == 0);
    }
    if (params->json)
        fprintf(report, "%s], \"verified\": %s}", count ? "\n    " : "", ok ? "true" : "false");
    for (size_t i = 0; hashes != NULL && i < count; i++)
        drv_member_hash_free(&hashes[i]);
    free(hashes);
    free(failed);
    drv_ctl_free(&ctl);
    return ok;
}

/* Without --os, the OS ids the package's catalogs were made for (their OS attribute). */
static int package_os_from_catalogs(const char *dir, char **list, drvsign_diag *diag)
{
    drv_strlist names;
    *list = NULL;
    if (drv_list_dir(dir, &names, diag) != 0)
        return -1;
    for (size_t i = 0; i < names.n; i++) {
        size_t n = strlen(names.v[i]);
        char *path;
        drv_ctl ctl;
        drvsign_diag quiet;
        if (n < 5 || drv_strcasecmp(names.v[i] + n - 4, ".cat") != 0)
            continue;
        path = drv_path_join(dir, names.v[i]);
        drv_diag_errors_only(&quiet, diag);
        if (path != NULL && drv_catalog_load(path, &ctl, &quiet) == 0) {
            for (size_t a = 0; a < ctl.attr_count; a++) {
                size_t table_size;
                const drv_os *table = drv_os_table(&table_size);
                char *save = NULL, *tok;
                if (strcmp(ctl.attrs[a].name, "OS") != 0)
                    continue;
                for (tok = strtok_r(ctl.attrs[a].value, ",", &save); tok != NULL;
                     tok = strtok_r(NULL, ",", &save))
                    for (size_t t = 0; t < table_size; t++)
                        if (drv_strcasecmp(table[t].token, tok) == 0)
                            drv_join_unique(list, table[t].id);
            }
            drv_ctl_free(&ctl);
        }
        free(path);
    }
    drv_strlist_free(&names);
    return 0;
}

static drvsign_status verify_package(const drvsign_params *params, X509_STORE *store,
                                     FILE *report, drvsign_diag *diag)
{
    const drv_os **os = NULL;
    size_t os_count = 0;
    char *derived = NULL;
    drv_pkg pkg;
    drv_pkg_opts opts = {0};
    file_result *r = malloc(sizeof *r);
    int ok = 1;

    if (r == NULL)
        return DRVSIGN_FAILED;
    if (params->os_list_count > 0) {
        if (drv_parse_os_list(params->os_lists, params->os_list_count, &os, &os_count, diag) != 0) {
            free(r);
            return DRVSIGN_USAGE;
        }
    } else {
        const char *lists[1];
        unsigned before = diag->errors;
        if (!drv_is_dir(params->package)) {
            drv_error(diag, params->package,
                      drv_file_exists(params->package) ? "is not a directory" : "does not exist");
            free(r);
            return DRVSIGN_FAILED;
        }
        if (package_os_from_catalogs(params->package, &derived, diag) != 0 ||
            diag->errors != before) {
            /* an unreadable catalog, already reported once */
            free(derived);
            free(r);
            return DRVSIGN_FAILED;
        }
        if (derived == NULL) {
            drv_error(diag, params->package, "no catalog here says which OS it is for; give %s",
                      drv_param(diag, DRVSIGN_PARAM_OS_LISTS));
            free(r);
            return DRVSIGN_USAGE;
        }
        lists[0] = derived;
        if (drv_parse_os_list(lists, 1, &os, &os_count, diag) != 0) {
            free(derived);
            free(r);
            return DRVSIGN_FAILED;
        }
    }
    opts.os = os;
    opts.os_count = os_count;
    /* A staged package is judged as it is; its DriverVer date was checked when it was built. */
    opts.now = (int64_t)1 << 40;
    if (drv_pkg_analyze(params->package, &opts, &pkg, diag) != 0)
        ok = 0;
    if (params->json) {
        fprintf(report, "{\"package\": ");
        drv_json_string(report, params->package);
        fprintf(report, ", \"catalogs\": [");
    }
    for (size_t i = 0; i < pkg.count; i++) {
        drv_pkg_catalog *c = &pkg.catalogs[i];
        const char **paths = calloc(c->file_count ? c->file_count : 1, sizeof *paths);
        if (params->json && i > 0)
            fputc(',', report);
        if (!drv_file_exists(c->path)) {
            drv_error(diag, c->inf_path, "its catalog %s (CatalogFile) is missing", c->name);
            if (params->json) {
                fprintf(report, "\n  {\"catalog\": ");
                drv_json_string(report, c->path);
                fprintf(report, ", \"verified\": false, \"problem\": \"missing\"}");
            } else
                fprintf(report, "%s: MISSING (named by %s)\n", c->path, c->inf_path);
            ok = 0;
            free(paths);
            continue;
        }
        {
            /* a package is a closed world: its catalog too must be a file in it */
            char what[1100];
            if (drv_entry_at(c->path, what, sizeof what) != DRV_ENTRY_FILE) {
                drv_error(diag, c->path, "is %s; a package's catalog must be a regular file in it",
                          what);
                if (params->json) {
                    fprintf(report, "\n  {\"catalog\": ");
                    drv_json_string(report, c->path);
                    fprintf(report, ", \"verified\": false, \"problem\": \"not a regular file\"}");
                } else
                    fprintf(report, "%s: NOT A REGULAR FILE (%s)\n", c->path, what);
                ok = 0;
                free(paths);
                continue;
            }
        }
        for (size_t k = 0; paths != NULL && k < c->file_count; k++)
            paths[k] = c->files[k].path;
        if (params->json)
            fprintf(report, "\n  ");
        if (paths == NULL || !verify_catalog_and_members(params, store, c->path, paths,
                                                         c->file_count, report, r, diag))
            ok = 0;
        free(paths);
    }
    if (params->json)
        fprintf(report, "\n], \"verified\": %s}\n", ok ? "true" : "false");
    else
        fprintf(report, "package %s: %s (%zu catalog%s, OS %s)\n", params->package,
                ok ? "verified" : "FAILED", pkg.count, pkg.count == 1 ? "" : "s",
                derived ? derived : "as given");
    drv_pkg_free(&pkg);
    free(os);
    free(derived);
    free(r);
    return ok ? DRVSIGN_OK : DRVSIGN_FAILED;
}

drvsign_status drvsign_verify(const drvsign_params *params, const char *const *files, size_t count,
                              FILE *report, drvsign_diag *diag)
{
    X509_STORE *store;
    int failed = 0;
    file_result *r;
    drvsign_status status;

    if (drvsign_check_params(DRVSIGN_OP_VERIFY, params, count, diag) != DRVSIGN_OK)
        return DRVSIGN_USAGE;
    store = drv_ac_trust_store(params->ca_file, diag);
    if (store == NULL)
        return DRVSIGN_FAILED;
    if (params->package != NULL) {
        status = verify_package(params, store, report, diag);
        X509_STORE_free(store);
        fflush(report);
        return status;
    }
    r = malloc(sizeof *r);
    if (r == NULL) {
        X509_STORE_free(store);
        return DRVSIGN_FAILED;
    }
    if (params->catalog != NULL) {
        failed = !verify_catalog_and_members(params, store, params->catalog, files, count, report,
                                             r, diag);
        if (params->json)
            fputc('\n', report);
    } else {
        if (params->json)
            fprintf(report, "{\"files\": [");
        for (size_t i = 0; i < count; i++) {
            verify_one(params, store, files[i], r, diag);
            if (!r->ok)
                failed = 1;
            if (params->json)
                report_json(report, r, i == 0);
            else
                report_text(report, r);
        }
        if (params->json)
            fprintf(report, "\n  ], \"verified\": %s}\n", failed ? "false" : "true");
    }
    fflush(report);
    free(r);
    X509_STORE_free(store);
    return failed ? DRVSIGN_FAILED : DRVSIGN_OK;
}

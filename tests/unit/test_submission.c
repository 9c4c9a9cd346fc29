#define _DEFAULT_SOURCE /* mkdtemp */
/* Partner Center's submission rules (reference 5.1): folder names, an INF at each package's
 * root, the architectures an INF serves, one architecture set per submission; each through
 * the rule functions and through drvsign_cab, which must refuse with exit status 1 and the
 * rule's own message, and write nothing. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "port.h"
#include "submission_rules.h"
#include "unit.h"

static char dir[] = "/tmp/drvsign-unit-pc-XXXXXX";

static char *path_in(const char *rel)
{
    return drv_path_join(dir, rel);
}

static void put(const char *rel, const char *text)
{
    char *p = path_in(rel);
    FILE *f = p ? fopen(p, "wb") : NULL;
    CHECK(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0, "write %s", rel);
    free(p);
}

static void mkdir_in(const char *rel)
{
    char *p = path_in(rel);
    CHECK(p != NULL && mkdir(p, 0755) == 0, "mkdir %s", rel);
    free(p);
}

static const char inf_head[] = "[Version]\nSignature=\"$WINDOWS NT$\"\nClass=System\n"
                               "ClassGuid={4d36e97d-e325-11ce-bfc1-08002be10318}\n"
                               "Provider=%P%\nCatalogFile=t.cat\nDriverVer=01/01/2024,1.0.0.0\n";

static void folder_names(void)
{
    char forty[41];
    memset(forty, 'a', 40);
    forty[40] = 0;
    CHECK(drv_pc_folder_name_ok("toastpkg"), "letters");
    CHECK(drv_pc_folder_name_ok("Toast_Pkg-1.2"), "letters, digits, _ - .");
    CHECK(!drv_pc_folder_name_ok(forty), "40 characters are too many");
    forty[39] = 0;
    CHECK(drv_pc_folder_name_ok(forty), "39 are fine");
    CHECK(!drv_pc_folder_name_ok(""), "empty");
    CHECK(!drv_pc_folder_name_ok("."), ".");
    CHECK(!drv_pc_folder_name_ok(".."), "..");
    CHECK(!drv_pc_folder_name_ok("toast pkg"), "a space");
    CHECK(!drv_pc_folder_name_ok("toast\xc3\xa9"), "non-ASCII");
    CHECK(drv_pc_is_inf("a.inf") && drv_pc_is_inf("A.INF") && !drv_pc_is_inf(".inf") &&
              !drv_pc_is_inf("a.inx") && !drv_pc_is_inf("inf"),
          ".inf in any case, with a base name");
}

static unsigned arches_of(const char *body)
{
    drvsign_diag diag = unit_diag();
    char *p;
    unsigned mask;
    char text[4096];
    snprintf(text, sizeof text, "%s%s", inf_head, body);
    put("probe.inf", text);
    p = path_in("probe.inf");
    mask = drv_pc_inf_arches(p, &diag);
    free(p);
    return mask;
}

static void inf_architectures(void)
{
    static const struct {
        const char *body, *want, *what;
    } cases[] = {
        {"[Manufacturer]\n%M%=Models,NTamd64.10.0...16299,NTarm64\n", "amd64, arm64",
         "[Manufacturer] decorations"},
        {"[Manufacturer]\n%M%=Models\n", "x86", "no decoration: x86 alone"},
        {"[Manufacturer]\n%M%=Models,NT.6.1\n", "x86", "a decoration with no architecture"},
        {"[DefaultInstall.NTarm64]\nCopyFiles=x\n", "arm64", "primitive driver"},
        {"[Manufacturer]\n%M%=Models,NTx86\n", "x86", "NTx86"},
    };
    char text[64];
    unsigned m;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        m = arches_of(cases[i].body);
        drv_pc_arch_text(m, text, sizeof text);
        CHECK(strcmp(text, cases[i].want) == 0, "%s: %s", cases[i].what, text);
    }
    {
        /* CatalogFile.NT<arch> keys count too */
        drvsign_diag diag = unit_diag();
        char *p;
        put("cat.inf", "[Version]\nSignature=\"$WINDOWS NT$\"\nCatalogFile.NTamd64=a.cat\n"
                       "CatalogFile.NTia64=i.cat\n");
        p = path_in("cat.inf");
        m = drv_pc_inf_arches(p, &diag);
        free(p);
        drv_pc_arch_text(m, text, sizeof text);
        CHECK(strcmp(text, "amd64, ia64") == 0, "CatalogFile.NT<arch> keys (%s)", text);
    }
}

/* drvsign_cab on these package directories: its status and the last error line. */
static drvsign_status cab(const char *const *pkgs, size_t n)
{
    drvsign_params p = {0};
    drvsign_diag diag = unit_diag();
    const char *dirs[4];
    char *out = path_in("out.cab");
    drvsign_status st;
    for (size_t i = 0; i < n; i++)
        dirs[i] = path_in(pkgs[i]);
    p.out = out;
    p.quiet = 1;
    p.time = 1700000000;
    st = drvsign_cab(&p, dirs, n, stdout, &diag);
    for (size_t i = 0; i < n; i++)
        free((char *)dirs[i]);
    if (st != DRVSIGN_OK)
        CHECK(access(out, F_OK) != 0, "a refused submission writes no cabinet");
    remove(out);
    free(out);
    return st;
}

static void whole_submissions(void)
{
    char inf[1024];
    const char *good[] = {"pkga", "pkgb"};
    const char *noinf[] = {"pkga", "noinf"};
    const char *mixed[] = {"pkga", "pkgarm"};
    const char *badname[] = {"bad name"};
    const char *nested[] = {"deep"};

    snprintf(inf, sizeof inf, "%s[Manufacturer]\n%%M%%=Models,NTamd64\n", inf_head);
    mkdir_in("pkga");
    put("pkga/a.inf", inf);
    put("pkga/a.sys", "MZ not really");
    mkdir_in("pkgb");
    put("pkgb/b.inf", inf);
    mkdir_in("noinf");
    put("noinf/readme.txt", "no INF here");
    mkdir_in("pkgarm");
    snprintf(inf, sizeof inf, "%s[Manufacturer]\n%%M%%=Models,NTarm64\n", inf_head);
    put("pkgarm/arm.inf", inf);
    mkdir_in("bad name");
    put("bad name/x.inf", inf);
    mkdir_in("deep");
    mkdir_in("deep/sub");
    put("deep/sub/x.inf", inf); /* not at the root */

    CHECK(cab(good, 2) == DRVSIGN_OK, "two amd64 packages make a submission (%s)",
          unit_sink.last_error);
    CHECK(cab(noinf, 2) == DRVSIGN_FAILED, "a package without an INF is refused");
    CHECK(strstr(unit_sink.last_error, "no .inf file at the root of the package folder noinf") !=
              NULL,
          "... naming it: %s", unit_sink.last_error);
    CHECK(cab(nested, 1) == DRVSIGN_FAILED &&
              strstr(unit_sink.last_error, "no .inf file at the root") != NULL,
          "an INF below the root does not count: %s", unit_sink.last_error);
    CHECK(cab(mixed, 2) == DRVSIGN_FAILED, "packages for different architectures are refused");
    CHECK(strstr(unit_sink.last_error, "package pkgarm supports arm64, but pkga supports amd64") !=
              NULL,
          "... naming both: %s", unit_sink.last_error);
    CHECK(cab(badname, 1) == DRVSIGN_FAILED, "a folder name with a space is refused");
    CHECK(strstr(unit_sink.last_error, "'bad name' is not accepted by Partner Center") != NULL,
          "... with the rule: %s", unit_sink.last_error);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    folder_names();
    inf_architectures();
    whole_submissions();
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0, "clean up");
    }
    return unit_finish();
}

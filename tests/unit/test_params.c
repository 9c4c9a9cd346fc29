/* The one validator (drvsign_check_params): every problem one line, all of them before the
 * verdict, each parameter named through the front end's param_name or the library's default. */
#include <string.h>

#include "drvsign/drvsign.h"
#include "unit.h"

/* a front end that names two parameters and leaves the rest to the library */
static const char *upper_names(void *ctx, drvsign_param id)
{
    (void)ctx;
    return id == DRVSIGN_PARAM_OS_LISTS          ? "OS"
           : id == DRVSIGN_PARAM_CATALOG_VERSION ? "CATVER"
                                                 : NULL;
}

int main(void)
{
    const char *files[2] = {"a.sys", "b.sys"};
    const char *os[2] = {"10_X64", "10_X46"};

    {
        /* no namer: the library's own names, drvsign_params' fields; three problems, three lines */
        drvsign_diag d = unit_diag();
        drvsign_params p = {0};
        p.digest = "md5";
        p.out = "x.sys";
        CHECK(drvsign_check_params(DRVSIGN_OP_SIGN, &p, 2, &d) == DRVSIGN_USAGE, "sign: usage");
        CHECK(unit_sink.error_count == 3 && d.errors == 3, "sign: three lines, got %u",
              unit_sink.error_count);
        CHECK(unit_error_is("out takes exactly one input file, not 2"), "sign: out: %s",
              unit_sink.errors[0]);
        CHECK(unit_error_is("digest takes sha256 or sha1, not 'md5'"), "sign: digest");
        CHECK(unit_error_is("sign needs a signing identity: pfx, or cert and key, or cert and "
                            "signer_command"),
              "sign: identity");
    }
    {
        /* a namer: its names where it has them, the library's elsewhere; every problem listed */
        drvsign_diag d = unit_diag();
        drvsign_params p = {0};
        d.param_name = upper_names;
        p.driver_dir = "pkg";
        p.os_lists = os;
        p.os_list_count = 2;
        p.catalog_version = 3;
        p.time = -1;
        CHECK(drvsign_check_params(DRVSIGN_OP_CATALOG, &p, 0, &d) == DRVSIGN_USAGE,
              "catalog: usage");
        CHECK(unit_sink.error_count == 3, "catalog: three lines, got %u", unit_sink.error_count);
        CHECK(unit_error_is("CATVER is 1 or 2, not '3'"), "catalog: version: %s",
              unit_sink.errors[0]);
        CHECK(unit_error_is("unknown OS id '10_X46'; did you mean 10_X86, 10_X64, XP_X86?"),
              "catalog: os: %s", unit_sink.errors[2]);
        CHECK(unit_error_is("time takes seconds since 1970 from 1 to 1099511627776, not '-1'"),
              "catalog: time: %s", unit_sink.errors[1]);
    }
    {
        /* what is right passes, silently */
        drvsign_diag d = unit_diag();
        drvsign_params p = {0};
        p.pfx = "signing.pfx";
        p.digest = "sha1";
        p.timestamp_urls = files; /* not URLs: only an http(s) URL passes */
        p.timestamp_url_count = 1;
        CHECK(drvsign_check_params(DRVSIGN_OP_SIGN, &p, 1, &d) == DRVSIGN_USAGE, "ts: usage");
        CHECK(unit_error_is("timestamp_urls is an http:// or https:// URL, not 'a.sys'"), "ts: %s",
              unit_sink.errors[0]);
        d = unit_diag();
        p.timestamp_urls = (const char *const[]){"HTTP://127.0.0.1/tsa"};
        CHECK(drvsign_check_params(DRVSIGN_OP_SIGN, &p, 1, &d) == DRVSIGN_OK &&
                  unit_sink.error_count == 0,
              "a good signer passes: %s", unit_sink.error_count ? unit_sink.errors[0] : "");
    }
    {
        /* the plan needs its targets and its one INF: both said, in one go */
        drvsign_diag d = unit_diag();
        drvsign_params p = {0};
        d.param_name = upper_names;
        CHECK(drvsign_check_params(DRVSIGN_OP_PLAN, &p, 0, &d) == DRVSIGN_USAGE, "plan: usage");
        CHECK(unit_sink.error_count == 2 && unit_error_is("plan takes exactly one INF, not 0") &&
                  unit_error_is("plan needs OS, the Inf2Cat OS ids (for example 10_X64)"),
              "plan: %u lines: %s", unit_sink.error_count, unit_sink.errors[0]);
    }
    /* every parameter has a name of its own */
    for (int i = 0; i < DRVSIGN_PARAM_COUNT; i++) {
        const char *name = drvsign_param_default_name((drvsign_param)i);
        CHECK(name != NULL && strcmp(name, "(unknown parameter)") != 0, "parameter %d has no name",
              i);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(name, drvsign_param_default_name((drvsign_param)j)) != 0,
                  "parameters %d and %d share the name %s", i, j, name);
    }
    return unit_finish();
}

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

/* StampInf's values alone through the validator */
static drvsign_status stamp_check(const char *version, const char *date, const char *kmdf,
                                  const char *umdf)
{
    drvsign_diag d = unit_diag();
    drvsign_params p = {0};
    p.driver_version = version;
    p.driver_date = date;
    p.kmdf_version = kmdf;
    p.umdf_version = umdf;
    return drvsign_check_params(DRVSIGN_OP_STAMPINF, &p, 1, &d);
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
        /* StampInf's values: four wrong ones, four lines; the right ones pass */
        static const char *const good_versions[] = {"1", "1.2", "10.0.19041.1", "65535.0.0.65535"};
        static const char *const bad_versions[] = {
            "", "v1.2", "1.2.3.70000", "1..2", "1.2.3.4.5", "1.2.", "99999999999999999999"};
        static const char *const good_dates[] = {"01/15/2024", "1/5/2024", "12/31/1999",
                                                 "02/29/2024", "01/01/1980"};
        /* the rule the stamped DriverVer is catalogued by: a real date, from 1980 on */
        static const char *const bad_dates[] = {
            "2024-01-15", "13/01/2024", "01/32/2024", "01/15/24",   "01/15/20245", "1/15/2024x",
            "/15/2024",   "02/30/2024", "02/29/2023", "04/31/2024", "12/31/1979",  "00/10/2024"};
        drvsign_diag d = unit_diag();
        drvsign_params p = {0};
        p.driver_version = "1.2.3.70000";
        p.driver_date = "2024-01-15";
        p.kmdf_version = "1";
        p.umdf_version = "two";
        CHECK(drvsign_check_params(DRVSIGN_OP_STAMPINF, &p, 1, &d) == DRVSIGN_USAGE,
              "stampinf: usage");
        CHECK(unit_sink.error_count == 4, "stampinf: four lines, got %u", unit_sink.error_count);
        CHECK(unit_error_is("driver_version is a version w.x.y.z (each 0 to 65535), not "
                            "'1.2.3.70000'"),
              "stampinf: version: %s", unit_sink.errors[0]);
        CHECK(unit_error_is("driver_date is a date mm/dd/yyyy from 1980 on, not '2024-01-15'"),
              "stampinf: date");
        CHECK(unit_error_is("kmdf_version is a KMDF version x.y (for example 1.15), not '1'"),
              "stampinf: kmdf");
        CHECK(unit_error_is("umdf_version is a UMDF version x.y.z (for example 2.15.0), not "
                            "'two'"),
              "stampinf: umdf");
        for (size_t i = 0; i < sizeof good_versions / sizeof good_versions[0]; i++)
            CHECK(stamp_check(good_versions[i], NULL, "1.15", i % 2 ? "2.15" : "2.15.0") ==
                      DRVSIGN_OK,
                  "stampinf: version '%s' passes", good_versions[i]);
        for (size_t i = 0; i < sizeof bad_versions / sizeof bad_versions[0]; i++)
            CHECK(stamp_check(bad_versions[i], NULL, NULL, NULL) == DRVSIGN_USAGE,
                  "stampinf: version '%s' is refused", bad_versions[i]);
        for (size_t i = 0; i < sizeof good_dates / sizeof good_dates[0]; i++)
            CHECK(stamp_check(NULL, good_dates[i], NULL, NULL) == DRVSIGN_OK,
                  "stampinf: date '%s' passes", good_dates[i]);
        for (size_t i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++)
            CHECK(stamp_check(NULL, bad_dates[i], NULL, NULL) == DRVSIGN_USAGE,
                  "stampinf: date '%s' is refused", bad_dates[i]);
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

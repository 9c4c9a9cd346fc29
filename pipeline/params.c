#include "params.h"

#include "signer.h"

/* What a CMake user writes for each parameter the pipeline fills from the manifest or the
 * environment: drvsign_add_package()'s arguments, and the DRVSIGN_* cache or environment
 * variables of production signing (README, cmake/DrvSign.cmake). Parameters the pipeline sets
 * itself (paths in the build tree) have no user-facing name and keep the library's. */
static const struct {
    drvsign_param id;
    const char *name;
} cmake_names[] = {
    {DRVSIGN_PARAM_PFX, "DRVSIGN_PFX"},
    {DRVSIGN_PARAM_CERT, "DRVSIGN_CERT"},
    {DRVSIGN_PARAM_KEY, "DRVSIGN_KEY"},
    {DRVSIGN_PARAM_PKCS11_MODULE, "DRVSIGN_PKCS11_MODULE"},
    {DRVSIGN_PARAM_PASSWORD_ENV, "DRVSIGN_PASSWORD"},
    {DRVSIGN_PARAM_PASSWORD_FILE, "DRVSIGN_PASSWORD_FILE"},
    {DRVSIGN_PARAM_SIGNER_COMMAND, "DRVSIGN_SIGNER_COMMAND"},
    {DRVSIGN_PARAM_ADD_CERTS, "DRVSIGN_ADD_CERTS"},
    {DRVSIGN_PARAM_CA_FILE, "DRVSIGN_CA"},
    {DRVSIGN_PARAM_TIMESTAMP_URLS, "TIMESTAMP_URL"},
    {DRVSIGN_PARAM_PAGE_HASHES, "PAGE_HASHES"},
    {DRVSIGN_PARAM_OS_LISTS, "OS"},
    {DRVSIGN_PARAM_CATALOG_VERSION, "CATALOG_VERSION"},
    {DRVSIGN_PARAM_ARCHIVE_FORMAT, "ARCHIVE"},
    {DRVSIGN_PARAM_ARCH, "ARCH"},
    {DRVSIGN_PARAM_KMDF_VERSION, "KMDF_VERSION"},
    {DRVSIGN_PARAM_UMDF_VERSION, "UMDF_VERSION"},
    {DRVSIGN_PARAM_DRIVER_VERSION, "DRIVER_VERSION"},
    {DRVSIGN_PARAM_DRIVER_DATE, "DRIVER_DATE"},
};

const char *pipeline_param_name(void *ctx, drvsign_param id)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof cmake_names / sizeof cmake_names[0]; i++)
        if (cmake_names[i].id == id)
            return cmake_names[i].name;
    return NULL;
}

int pipeline_check_params(const manifest *m, drvsign_diag *diag)
{
    drvsign_params catalog = {0}, archive = {0}, signer = {0};
    holder keep = {0};
    unsigned before = diag->errors;

    /* the catalog step's parameters; the package directory exists only at build time */
    catalog.driver_dir = m->output;
    catalog.os_lists = (const char *const *)m->os.v;
    catalog.os_list_count = m->os.n;
    catalog.catalog_version = m->catalog_version;
    drvsign_check_params(DRVSIGN_OP_CATALOG, &catalog, 0, diag);
    /* the signer (production credentials unless stored signatures may stand in for them) and
     * its timestamps; checked with signing off too, as the arguments are wrong either way */
    signer_params(m, production(m) && m->signatures == NULL, &signer, &keep, diag);
    holder_free(&keep);
    if (m->archive_format != NULL) {
        archive.archive_format = m->archive_format;
        archive.out = m->archive_format; /* any name: the archive's path is known at build time */
        drvsign_check_params(DRVSIGN_OP_ARCHIVE, &archive, 1, diag);
    }
    return diag->errors != before ? -1 : 0;
}

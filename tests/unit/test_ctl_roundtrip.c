/* The catalog trust list, written and read back: v1 and v2, every SIP of the format table and
 * the flat one, page hashes, catalog attributes, OSAttr, makecat's SHA-1 compatibility entries
 * and the duplicate-contents rule; and the SIP lookups the reader uses. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pkcs7.h>

#include "authenticode.h"
#include "ctl.h"
#include "formats.h"
#include "unit.h"

#define NFILES 4

/* The CTL inside the written ContentInfo, as a catalog file carries it. */
static int ctl_of(const unsigned char *der, size_t len, const unsigned char **ctl, size_t *ctl_len,
                  PKCS7 **keep)
{
    const unsigned char *p = der;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
    ASN1_TYPE *t;
    if (p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign->contents == NULL ||
        (t = p7->d.sign->contents->d.other) == NULL || t->type != V_ASN1_SEQUENCE) {
        PKCS7_free(p7);
        return -1;
    }
    *ctl = ASN1_STRING_get0_data(t->value.sequence);
    *ctl_len = (size_t)ASN1_STRING_length(t->value.sequence);
    *keep = p7;
    return 0;
}

static void fill(drv_ctl_file *f, const char *name, const drv_sip *sip, unsigned char seed)
{
    memset(f, 0, sizeof *f);
    f->name = name;
    f->sip = sip;
    for (size_t i = 0; i < sizeof f->sha1; i++)
        f->sha1[i] = (unsigned char)(seed * 31 + i);
    for (size_t i = 0; i < sizeof f->sha256; i++)
        f->sha256[i] = (unsigned char)(seed * 17 + 3 * i);
}

static void round_trip(int version)
{
    static unsigned char pages1[2 * 24], pages256[2 * 36];
    const drv_sip *pe = drv_sip_by_member_kind(0), *cab = drv_sip_by_member_kind(1);
    drv_ctl_file files[NFILES];
    drv_ctl_attr attrs[2] = {{"OS", "_v100_X64"}, {"HWID1", "pci\\ven_1234&dev_5678"}};
    drv_ctl_build b = {0};
    drvsign_diag diag = unit_diag();
    unsigned char *der = NULL;
    const unsigned char *ctl_der;
    size_t der_len = 0, ctl_len;
    PKCS7 *p7 = NULL;
    drv_ctl ctl;
    size_t compat = 0;

    fill(&files[0], "toaster.sys", pe, 1);
    files[0].page_hashes_sha1 = pages1;
    files[0].page_hashes_sha1_len = sizeof pages1;
    files[0].page_hashes_sha256 = pages256;
    files[0].page_hashes_sha256_len = sizeof pages256;
    fill(&files[1], "toastpkg.inf", &drv_sip_flat, 2);
    fill(&files[2], "payload.cab", cab, 3);
    fill(&files[3], "copy-of-inf.txt", &drv_sip_flat, 2); /* same contents as files[1] */
    b.version = version;
    b.this_update = 1700000000; /* 2023-11-14 22:13:20 UTC */
    b.files = files;
    b.file_count = NFILES;
    b.os_attr = "2:10.0";
    b.attrs = attrs;
    b.attr_count = 2;
    CHECK(drv_ctl_write(&b, &der, &der_len, "test.cat", &diag) == 0, "v%d: write", version);
    CHECK(diag.errors == 0, "v%d: no errors (%s)", version, unit_sink.last_error);
    CHECK(unit_sink.warning_count == 1, "v%d: one warning for the duplicate contents (%u)", version,
          unit_sink.warning_count);
    if (der == NULL || ctl_of(der, der_len, &ctl_der, &ctl_len, &p7) != 0) {
        CHECK(0, "v%d: the output is a SignedData holding a CTL", version);
        OPENSSL_free(der);
        return;
    }
    CHECK(drv_ctl_parse(ctl_der, ctl_len, &ctl, "test.cat", &diag) == 0, "v%d: parse", version);
    CHECK(ctl.version == version, "v%d: version read back %d", version, ctl.version);
    CHECK(strstr(ctl.this_update, "231114221320") != NULL, "v%d: this update %s (UTCTime)", version,
          ctl.this_update);
    CHECK(ctl.list_id_len > 0, "v%d: a list identifier", version);
    CHECK(ctl.attr_count == 2 && strcmp(ctl.attrs[0].name, "OS") == 0 &&
              strcmp(ctl.attrs[0].value, "_v100_X64") == 0 &&
              strcmp(ctl.attrs[1].name, "HWID1") == 0 &&
              strcmp(ctl.attrs[1].value, "pci\\ven_1234&dev_5678") == 0,
          "v%d: catalog attributes in order", version);
    /* v1: one member per distinct contents; v2 adds a SHA-1 compatibility entry for each */
    CHECK(ctl.count == (version == 2 ? 6u : 3u), "v%d: %zu members", version, ctl.count);
    for (size_t i = 0; i < 3; i++) {
        const drv_ctl_file *f = &files[i];
        const drv_ctl_member *m = version == 2 ? drv_ctl_find(&ctl, f->sha256, 32)
                                               : drv_ctl_find(&ctl, f->sha1, 20);
        CHECK(m != NULL, "v%d: %s found by its digest", version, f->name);
        if (m == NULL)
            continue;
        CHECK(m->file != NULL && strcmp(m->file, f->name) == 0, "v%d: File of %s", version,
              f->name);
        CHECK(m->os_attr != NULL && strcmp(m->os_attr, "2:10.0") == 0, "v%d: OSAttr of %s",
              version, f->name);
        CHECK(m->sip == f->sip, "v%d: SIP of %s: %s", version, f->name, m->sip->name);
        CHECK(strcmp(m->sip_guid, f->sip->guid) == 0, "v%d: SIP GUID of %s", version, f->name);
        CHECK(m->md == (version == 2 ? EVP_sha256() : EVP_sha1()) ||
                  (m->md != NULL &&
                   EVP_MD_get_type(m->md) == (version == 2 ? NID_sha256 : NID_sha1)),
              "v%d: digest algorithm of %s", version, f->name);
        CHECK(m->digest_len == (version == 2 ? 32u : 20u) &&
                  memcmp(m->digest, version == 2 ? f->sha256 : f->sha1, m->digest_len) == 0,
              "v%d: the indirect data's digest of %s matches its tag", version, f->name);
    }
    {
        /* the duplicate is listed once, under the first name */
        int named = 0;
        for (size_t i = 0; i < ctl.count; i++)
            named |= ctl.members[i].file && strcmp(ctl.members[i].file, "copy-of-inf.txt") == 0;
        CHECK(!named, "v%d: identical contents are listed once", version);
    }
    if (version == 2) {
        for (size_t i = 0; i < 3; i++) {
            const drv_ctl_member *m = drv_ctl_find(&ctl, files[i].sha1, 20);
            if (m != NULL && m->md == NULL) {
                compat++;
                CHECK(m->sip == files[i].sip && m->file && strcmp(m->file, files[i].name) == 0,
                      "v2: compatibility entry of %s keeps File and SIP", files[i].name);
            }
        }
        CHECK(compat == 3, "v2: a SHA-1 compatibility entry per member (%zu)", compat);
    }
    drv_ctl_free(&ctl);
    PKCS7_free(p7);

    /* same input, same bytes */
    {
        unsigned char *again = NULL;
        size_t again_len = 0;
        CHECK(drv_ctl_write(&b, &again, &again_len, "test.cat", &diag) == 0 &&
                  again_len == der_len && memcmp(again, der, der_len) == 0,
              "v%d: writing twice gives identical bytes", version);
        OPENSSL_free(again);
    }
    OPENSSL_free(der);
}

static void sip_lookups(void)
{
    const drv_sip *pe = drv_sip_by_guid("{C689AAB8-8E78-11D0-8C47-00C04FC295EE}");
    const drv_sip *cab = drv_sip_by_guid("{C689AABA-8E78-11D0-8C47-00C04FC295EE}");
    CHECK(strcmp(pe->name, "pe") == 0, "the PE SIP GUID");
    CHECK(strcmp(cab->name, "cab") == 0, "the CAB SIP GUID");
    CHECK(drv_sip_by_guid("{DE351A42-8E59-11D0-8C47-00C04FC295EE}") == &drv_sip_flat, "flat GUID");
    CHECK(drv_sip_by_guid("{00000000-0000-0000-0000-000000000000}") == &drv_sip_flat,
          "an unknown GUID reads as flat");
    CHECK(drv_sip_by_member_kind(0) == pe && drv_sip_by_member_kind(1) == cab &&
              drv_sip_by_member_kind(2) == &drv_sip_flat && drv_sip_by_member_kind(9) == &drv_sip_flat,
          "MEMBERINFO2 kinds 0 PE, 1 CAB, 2 and others flat");
    CHECK(drv_sip_by_indirect_type(DRV_OID_SPC_PE_IMAGE_DATA) == pe, "SpcPeImageData is PE");
    CHECK(drv_sip_by_indirect_type(DRV_OID_SPC_CAB_DATA) == &drv_sip_flat,
          "the CAB data type reads as flat (makecat writes flat members with it)");
    CHECK(strcmp(pe->digest_kind, "Authenticode") == 0 && strcmp(cab->digest_kind, "file") == 0,
          "digest kinds for messages");
}

int main(void)
{
    sip_lookups();
    round_trip(1);
    round_trip(2);
    return unit_finish();
}

#include "sig_report.h"

#include "json.h"

void drv_report_sig_line(FILE *out, size_t index, int nested, const char *verdict,
                         const drv_sig_check *c, const char *suffix)
{
    fprintf(out, "  signature %zu%s: %s%s%s, signer \"%s\", issuer \"%s\"%s\n", index,
            nested ? " (nested)" : "", verdict ? verdict : "", verdict ? ", " : "",
            c->digest_name, c->signer, c->issuer, suffix ? suffix : "");
}

void drv_report_ts_line(FILE *out, const drv_sig_check *c, const char *suffix)
{
    if (c->ts_kind != NULL)
        fprintf(out, "    timestamp %s (%s) by \"%s\"%s\n", c->ts_time, c->ts_kind, c->tsa,
                suffix ? suffix : "");
}

void drv_report_json_signer(FILE *out, const drv_sig_check *c)
{
    fprintf(out, "\"digest\": ");
    drv_json_string(out, c->digest_name);
    fprintf(out, ", \"signer\": ");
    drv_json_string(out, c->signer);
    fprintf(out, ", \"issuer\": ");
    drv_json_string(out, c->issuer);
}

void drv_report_json_ts_open(FILE *out, const drv_sig_check *c)
{
    fprintf(out, "\"timestamp\": {\"kind\": \"%s\", \"time\": ", c->ts_kind);
    drv_json_string(out, c->ts_time);
    fprintf(out, ", \"tsa\": ");
    drv_json_string(out, c->tsa);
}

/* A stand-in for the vendor libraries (sdtapi.dll, termb.dll, WltRS.dll, libwlt2bmp.so):
 * the same exported functions and return codes, driven by test_* control functions.
 * Built with gcc by tests/devices/conftest.py. */
#include <stdio.h>
#include <string.h>

static int g_card = 0, g_port_ok = 1001, g_open = -1, g_fail_read = 0, g_unplugged = 0;
static unsigned char g_text[256], g_photo[1024];
static char g_fields[16][256];
static const unsigned char SAM_ID[16] = {0x05,0x00,0x01,0x00,0x09,0xB8,0x32,0x01,
                                         0x05,0xBE,0x12,0x00,0xAD,0xC5,0xB1,0x11};

void test_reset(void) { g_card = 0; g_port_ok = 1001; g_open = -1; g_fail_read = 0; g_unplugged = 0;
                        memset(g_fields, 0, sizeof g_fields); }
void test_set_port(int p) { g_port_ok = p; }
void test_place(const unsigned char *text, const unsigned char *photo) {
    memcpy(g_text, text, 256); memcpy(g_photo, photo, 1024); g_card = 1; }
void test_remove(void) { g_card = 0; }
void test_fail_next_read(void) { g_fail_read = 1; }
void test_unplug(int u) { g_unplugged = u; }
void test_set_field(int i, const char *gbk) { strncpy(g_fields[i], gbk, 255); }

/* ---- SDTAPI ---- */
int SDT_OpenPort(int p) { if (g_unplugged || p != g_port_ok) return 0x01; g_open = p; return 0x90; }
int SDT_ClosePort(int p) { g_open = -1; return 0x90; }
int SDT_GetSAMStatus(int p, int o) { return (p == g_open && !g_unplugged) ? 0x90 : 0x01; }
int SDT_GetSAMID(int p, unsigned char *id, int o) { if (p != g_open) return 0x01; memcpy(id, SAM_ID, 16); return 0x90; }
int SDT_StartFindIDCard(int p, unsigned char *m, int o) {
    if (p != g_open || g_unplugged) return 0x01; memset(m, 0, 4); return g_card ? 0x9F : 0x80; }
int SDT_SelectIDCard(int p, unsigned char *m, int o) {
    if (p != g_open || g_unplugged) return 0x01; memset(m, 0, 8); return g_card ? 0x90 : 0x81; }
int SDT_ReadBaseMsg(int p, unsigned char *t, unsigned int *tl, unsigned char *ph, unsigned int *pl, int o) {
    if (p != g_open || g_unplugged) return 0x01;
    if (!g_card || g_fail_read) { g_fail_read = 0; return 0x41; }
    memcpy(t, g_text, 256); *tl = 256; memcpy(ph, g_photo, 1024); *pl = 1024; return 0x90; }
int SDT_ReadNewAppMsg(int p, unsigned char *a, unsigned int *al, int o) { *al = 0; return 0x91; }

/* ---- 华视 termb (GBK getters) ---- */
int CVR_InitComm(int p) { return (!g_unplugged && p == g_port_ok) ? 1 : 0; }
int CVR_CloseComm(void) { return 1; }
int CVR_FindCard(void) { return g_card ? 1 : 0; }
int CVR_SelectCard(void) { return g_card ? 1 : 0; }
int CVR_Authenticate(void) { return g_card ? 1 : 0; }
int CVR_Read_Content(int active) { if (!g_card || g_fail_read) { g_fail_read = 0; return 0; } return 1; }
int CVR_GetSAMID(unsigned char *s) { strcpy((char *)s, "05.01-20101129-0001228293-0296863149"); return 1; }
static int get(int i, char *buf, int *len) { int n = (int)strlen(g_fields[i]); memcpy(buf, g_fields[i], n + 1); *len = n; return 1; }
int GetPeopleName(char *b, int *l) { return get(0, b, l); }
int GetPeopleSex(char *b, int *l) { return get(1, b, l); }
int GetPeopleNation(char *b, int *l) { return get(2, b, l); }
int GetPeopleBirthday(char *b, int *l) { return get(3, b, l); }
int GetPeopleAddress(char *b, int *l) { return get(4, b, l); }
int GetPeopleIDCode(char *b, int *l) { return get(5, b, l); }
int GetDepartment(char *b, int *l) { return get(6, b, l); }
int GetStartDate(char *b, int *l) { return get(7, b, l); }
int GetEndDate(char *b, int *l) { return get(8, b, l); }
int GetCertType(char *b, int *l) { return get(9, b, l); }
int GetNationCode(char *b, int *l) { return get(10, b, l); }
int GetBMPData(unsigned char *b, int *l) {
    memset(b, 0x7F, 38862); b[0] = 'B'; b[1] = 'M'; *l = 38862; return 1; }

/* ---- WLT decoders ---- */
static int is_sim(const unsigned char *w) { return memcmp(w, "SIMULATED-WLT", 13) == 0; }
int wlt2bmp(const unsigned char *wlt, unsigned char *out, int mode) {
    if (mode != 198) return 0;
    if (!is_sim(wlt)) return -1;
    for (int i = 0; i < 102 * 126 * 3; i++) out[i] = (unsigned char)(i % 251);
    return 1; }
int GetBmp(char *path, int intf) {
    size_t n = strlen(path);
    if (n < 4 || strcmp(path + n - 4, ".wlt") != 0) return -2;
    FILE *f = fopen(path, "rb"); if (!f) return -3;
    unsigned char w[1024]; size_t got = fread(w, 1, 1024, f); fclose(f);
    if (got != 1024) return -4;
    if (!is_sim(w)) return -5;
    char out[4096]; strncpy(out, path, sizeof out - 1); out[sizeof out - 1] = 0;
    strcpy(out + n - 4, ".bmp");
    f = fopen(out, "wb"); if (!f) return -3;
    fwrite("BM", 1, 2, f); for (int i = 0; i < 38860; i++) fputc(intf, f); fclose(f);
    return 1; }

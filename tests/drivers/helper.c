/* A user-mode DLL (a class installer's shape) whose size is padded to not be a multiple of 8. */
#include <windows.h>
#include <setupapi.h>

__declspec(dllexport) DWORD WINAPI ToasterClassInstaller(DWORD function, HANDLE info_set,
                                                         void *info_data)
{
    (void)info_set;
    (void)info_data;
    return function == 0 ? NO_ERROR : ERROR_DI_DO_DEFAULT;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}

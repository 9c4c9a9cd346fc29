/* The toaster co-installer: nothing to add to the default installation. */
#include <windows.h>
#include <setupapi.h>

__declspec(dllexport) DWORD WINAPI ToasterCoInstaller(DI_FUNCTION function, HDEVINFO set,
                                                      PSP_DEVINFO_DATA data, void *context)
{
    (void)function;
    (void)set;
    (void)data;
    (void)context;
    return NO_ERROR;
}

/* The toaster class installer: answers every request with "do the default". */
#include <windows.h>
#include <setupapi.h>

__declspec(dllexport) DWORD WINAPI ToasterClassInstaller(DI_FUNCTION function, HDEVINFO set,
                                                         PSP_DEVINFO_DATA data)
{
    (void)function;
    (void)set;
    (void)data;
    return ERROR_DI_DO_DEFAULT;
}

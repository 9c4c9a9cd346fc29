/* Driver.c: the entry point, as in the template. */
#include "Driver.h"

static VOID NTAPI KMDFDriver1EvtDriverUnload(PDRIVER_OBJECT DriverObject)
{
    if (DriverObject->DeviceObject != NULL)
        IoDeleteDevice(DriverObject->DeviceObject);
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    (void)RegistryPath;
    DriverObject->DriverUnload = KMDFDriver1EvtDriverUnload;
    return KMDFDriver1CreateDevice(DriverObject);
}

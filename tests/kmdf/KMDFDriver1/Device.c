/* Device.c: the device object, as in the template. */
#include "Driver.h"

NTSTATUS KMDFDriver1CreateDevice(PDRIVER_OBJECT DriverObject)
{
    PDEVICE_OBJECT device = NULL;
    NTSTATUS status = IoCreateDevice(DriverObject, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
    if (!NT_SUCCESS(status))
        return status;
    return KMDFDriver1QueueInitialize(device);
}

/* Queue.c: the I/O queue, as in the template: here, create and close complete at once. */
#include "Driver.h"

static NTSTATUS NTAPI KMDFDriver1EvtIoDefault(PDEVICE_OBJECT Device, PIRP Irp)
{
    (void)Device;
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

NTSTATUS KMDFDriver1QueueInitialize(PDEVICE_OBJECT Device)
{
    Device->DriverObject->MajorFunction[IRP_MJ_CREATE] = KMDFDriver1EvtIoDefault;
    Device->DriverObject->MajorFunction[IRP_MJ_CLOSE] = KMDFDriver1EvtIoDefault;
    Device->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}

/*
 * A minimal WDM function driver in the spirit of the toaster sample: it creates a device,
 * answers IRP_MJ_CREATE/CLOSE, and unloads. Built with mingw-w64 as a native-subsystem image.
 */
#include <ddk/wdm.h>

static UNICODE_STRING toaster_device_name;

static NTSTATUS NTAPI toaster_create_close(PDEVICE_OBJECT device, PIRP irp)
{
    (void)device;
    irp->IoStatus.Status = STATUS_SUCCESS;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static VOID NTAPI toaster_unload(PDRIVER_OBJECT driver)
{
    if (driver->DeviceObject != NULL)
        IoDeleteDevice(driver->DeviceObject);
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path)
{
    PDEVICE_OBJECT device = NULL;
    NTSTATUS status;

    (void)registry_path;
    RtlInitUnicodeString(&toaster_device_name, L"\\Device\\DrvsignToaster");
    status = IoCreateDevice(driver, 0, &toaster_device_name, FILE_DEVICE_UNKNOWN, 0, FALSE,
                            &device);
    if (!NT_SUCCESS(status))
        return status;
    driver->MajorFunction[IRP_MJ_CREATE] = toaster_create_close;
    driver->MajorFunction[IRP_MJ_CLOSE] = toaster_create_close;
    driver->DriverUnload = toaster_unload;
    DbgPrint("toaster: loaded\n");
    return STATUS_SUCCESS;
}

/* Driver.h: the template's driver-wide declarations. mingw-w64 has no KMDF headers, so the
 * driver is WDM underneath; the files are the template's, the INF is the template's. */
#include <ddk/wdm.h>

DRIVER_INITIALIZE DriverEntry;
NTSTATUS KMDFDriver1CreateDevice(PDRIVER_OBJECT DriverObject);
NTSTATUS KMDFDriver1QueueInitialize(PDEVICE_OBJECT Device);

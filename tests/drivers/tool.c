/* A console EXE; the build appends overlay data after its last section. */
#include <stdio.h>

int main(void)
{
    puts("toaster tool");
    return 0;
}

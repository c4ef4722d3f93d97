/* The other partition of descheduled_ticks' module: its windows only keep the
 * partition under test out of the processor. */
#include "partition.h"

int main(void)
{
    return 0;
}

#include <stdio.h>

int main(void);

int
main(void)
{
	puts("zstor");
	return 0;
}

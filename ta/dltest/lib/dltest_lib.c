/*
 * oxtee's test shared TA library (see ta/dltest): what the dynamic-linking
 * test TA imports, and what it imports back from the TA, so that loading
 * the pair exercises every kind of symbol relocation a TA and its library
 * need: calls both ways (JUMP_SLOT), data through the GOT (GLOB_DAT), a
 * pointer to a preemptible symbol (ABS64), an undefined weak reference
 * (which must come out as 0). Built freestanding: no libc, no libutee.
 *
 * -DDLTEST_THIN builds the second library, which lacks dltest_call_back
 * (a TA needing it must fail to load).
 */

/* Defined by the TA. */
extern unsigned long dltest_ta_tag(void);
/* Defined by nobody. */
extern int dltest_nowhere(void) __attribute__((weak));

unsigned long dltest_counter = 40;
unsigned long *dltest_counter_ptr = &dltest_counter;

unsigned long dltest_add(unsigned long a, unsigned long b)
{
	dltest_counter++;
	return a + b;
}

#ifndef DLTEST_THIN
unsigned long dltest_call_back(unsigned long x)
{
	return dltest_ta_tag() + x;
}
#endif

int dltest_weak_is_null(void)
{
	return dltest_nowhere == 0;
}

unsigned long *dltest_counter_address(void)
{
	return &dltest_counter;
}

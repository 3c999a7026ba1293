/* empty_module.c - a shared object with one function and no dependencies:
 * what any dlopen() costs on this machine, the floor under bench_load's
 * figures for mtasts.so. */
int empty_module_fn(void);

int empty_module_fn(void)
{
	return 0;
}

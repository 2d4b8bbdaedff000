/* rollnet-bench's network sweep (sweep.c): a mesh of P2P sessions per
 * network condition, on a virtual clock, figures "sweep.<condition>.<figure>". */
#ifndef ROLLNET_BENCH_SWEEP_H
#define ROLLNET_BENCH_SWEEP_H

/* Run every condition some figure of which starts with `filter` (or whose
 * prefix `filter` starts with) and print the figures that start with it,
 * one per line, "name value unit". Exits the process on a failure. */
void bench_sweep(const char *filter);

#endif

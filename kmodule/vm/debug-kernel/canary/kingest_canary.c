// SPDX-License-Identifier: GPL-2.0
/*
 * Positive control for the debug-kernel harness (kmodule/vm/debug-kernel):
 * each mode commits one bug when the module loads, so that a run proves
 * KASAN, lockdep, DEBUG_ATOMIC_SLEEP, UBSAN and kmemleak actually report and
 * that the harness turns each report into a failed run. Never load this on
 * a real machine.
 *
 *   insmod kingest_canary.ko mode=oob|uaf|lockorder|sleep|leak|ubsan
 */
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

static char *mode = "";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "oob, uaf, lockorder, sleep, leak or ubsan");

static DEFINE_MUTEX(canary_a);
static DEFINE_MUTEX(canary_b);
static DEFINE_SPINLOCK(canary_lock);
static void *canary_leaked;

static noinline void canary_oob(void)
{
	char *p = kmalloc(16, GFP_KERNEL);

	if (!p)
		return;
	OPTIMIZER_HIDE_VAR(p);
	pr_info("kingest_canary: reading p[16] of a 16-byte object\n");
	(void)READ_ONCE(p[16]);
	kfree(p);
}

static noinline void canary_uaf(void)
{
	char *p = kmalloc(32, GFP_KERNEL);

	if (!p)
		return;
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	pr_info("kingest_canary: reading a freed object\n");
	(void)READ_ONCE(p[0]);
}

/* A then B, later B then A: lockdep reports the cycle without a deadlock. */
static noinline void canary_lockorder(void)
{
	mutex_lock(&canary_a);
	mutex_lock(&canary_b);
	mutex_unlock(&canary_b);
	mutex_unlock(&canary_a);
	mutex_lock(&canary_b);
	mutex_lock(&canary_a);
	mutex_unlock(&canary_a);
	mutex_unlock(&canary_b);
}

static noinline void canary_sleep(void)
{
	void *p;

	spin_lock(&canary_lock);
	p = kmalloc(8, GFP_KERNEL);	/* may sleep: DEBUG_ATOMIC_SLEEP must complain */
	spin_unlock(&canary_lock);
	kfree(p);
}

static noinline void canary_leak(void)
{
	canary_leaked = kmalloc(200, GFP_KERNEL);
	if (canary_leaked)
		memset(canary_leaked, 0x5a, 200);
	canary_leaked = NULL;	/* the only reference is gone: kmemleak must report it */
}

static noinline void canary_ubsan(void)
{
	int shift = 40;
	int one = 1;

	/* Opaque to the compiler: the shift happens, and is checked, at run time. */
	OPTIMIZER_HIDE_VAR(shift);
	OPTIMIZER_HIDE_VAR(one);
	pr_info("kingest_canary: 1 << %d = %d\n", shift, one << shift);
}

static int __init canary_init(void)
{
	pr_info("kingest_canary: mode=%s\n", mode);
	if (!strcmp(mode, "oob"))
		canary_oob();
	else if (!strcmp(mode, "uaf"))
		canary_uaf();
	else if (!strcmp(mode, "lockorder"))
		canary_lockorder();
	else if (!strcmp(mode, "sleep"))
		canary_sleep();
	else if (!strcmp(mode, "leak"))
		canary_leak();
	else if (!strcmp(mode, "ubsan"))
		canary_ubsan();
	else
		return -EINVAL;
	return 0;
}

static void __exit canary_exit(void)
{
}

module_init(canary_init);
module_exit(canary_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("deliberately buggy positive control for KASAN/lockdep/kmemleak/UBSAN");

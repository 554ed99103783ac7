// SPDX-License-Identifier: GPL-2.0
/*
 * rblk - request ids of in-flight peer requests.
 *
 * Every DATA, FLUSH, TRIM, PING and ROLE_REQ packet carries a request id
 * that the peer echoes in its answer.  The table maps an id back to the
 * request that waits for the answer.  Ids are allocated cyclically from
 * 1..U32_MAX (0 is never handed out), so an id is reused only after four
 * billion further requests; an answer carrying an id the table does not
 * hold (a duplicate, late or forged ack, or an id above U32_MAX) finds
 * nothing and the caller treats it as a protocol error.
 *
 * Locking: the xarray's own spinlock, taken with interrupts disabled
 * (irqsave), so every function may be called from any context, including
 * hard interrupt context and with other spinlocks held, provided
 * rblk_reqid_alloc() gets a non-blocking @gfp there.
 */

#include <linux/gfp.h>
#include <linux/limits.h>
#include <linux/xarray.h>

#include "rblk.h"

/**
 * rblk_reqid_init() - initialise an empty request-id table
 * @t: table to initialise
 *
 * Context: any.  Allocates nothing.
 */
void rblk_reqid_init(struct rblk_reqid_table *t)
{
	xa_init_flags(&t->xa, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_IRQ);
	t->next = 1;
}

/**
 * rblk_reqid_alloc() - give a request a new id
 * @t: table
 * @req: the request, non-NULL; returned by rblk_reqid_take() for the id
 * @id: the id (1..U32_MAX) is stored here on success
 * @gfp: allocation flags for the table's internal nodes
 *
 * The id is the next free one after the previously allocated id, wrapping
 * from U32_MAX back to 1.
 *
 * Context: any context if @gfp does not allow blocking (GFP_ATOMIC,
 * GFP_NOWAIT); process context with interrupts enabled and no spinlock held
 * if it does (GFP_KERNEL, GFP_NOIO), in which case it may sleep.
 *
 * Return: 0 on success; -ENOMEM if the table could not grow; -EBUSY if all
 * 2^32 - 1 ids are in flight.
 */
int rblk_reqid_alloc(struct rblk_reqid_table *t, void *req, u64 *id, gfp_t gfp)
{
	unsigned long flags;
	u32 new_id;
	int ret;

	if (gfpflags_allow_blocking(gfp)) {
		ret = xa_alloc_cyclic_irq(&t->xa, &new_id, req,
					  XA_LIMIT(1, U32_MAX), &t->next, gfp);
	} else {
		xa_lock_irqsave(&t->xa, flags);
		ret = __xa_alloc_cyclic(&t->xa, &new_id, req,
					XA_LIMIT(1, U32_MAX), &t->next, gfp);
		xa_unlock_irqrestore(&t->xa, flags);
	}
	if (ret < 0)
		return ret;
	*id = new_id;
	return 0;
}

/**
 * rblk_reqid_take() - look up an id and remove it from the table
 * @t: table
 * @id: id from a peer's answer; any value is safe
 *
 * Context: any.
 *
 * Return: the request stored under @id, which the caller now owns; NULL if
 * no request holds @id (already taken, never allocated, 0, or above
 * U32_MAX).
 */
void *rblk_reqid_take(struct rblk_reqid_table *t, u64 id)
{
	unsigned long flags;
	void *req;

	if (id == 0 || id > U32_MAX)
		return NULL;
	xa_lock_irqsave(&t->xa, flags);
	req = __xa_erase(&t->xa, (unsigned long)id);
	xa_unlock_irqrestore(&t->xa, flags);
	return req;
}

/**
 * rblk_reqid_lookup() - find the request of an id without removing it
 * @t: table
 * @id: id from the wire (any value)
 *
 * The caller must keep the request from being taken meanwhile (conn.c:
 * while the connection lives only io_work takes the ids of queued legs;
 * a submitter takes back only an id whose packet it never queued).
 *
 * Context: any.
 *
 * Return: the request, or NULL if @id is not in flight.
 */
void *rblk_reqid_lookup(struct rblk_reqid_table *t, u64 id)
{
	if (id == 0 || id > U32_MAX)
		return NULL;
	return xa_load(&t->xa, (unsigned long)id);
}

/**
 * rblk_reqid_oldest() - the lowest id in flight
 * @t: table
 *
 * Ids are handed out in increasing order until they wrap after
 * U32_MAX, so the lowest id is the oldest request but for the requests
 * after a wrap.  Only the id is returned: the request may be completed by
 * another context at once.
 *
 * Context: any.
 *
 * Return: the lowest id in the table, or 0 when it is empty.
 */
u64 rblk_reqid_oldest(struct rblk_reqid_table *t)
{
	unsigned long index = 0;
	unsigned long flags;
	void *req;

	xa_lock_irqsave(&t->xa, flags);
	req = xa_find(&t->xa, &index, U32_MAX, XA_PRESENT);
	xa_unlock_irqrestore(&t->xa, flags);
	return req ? index : 0;
}

/**
 * rblk_reqid_take_any() - remove some request from the table
 * @t: table
 * @id: the removed request's id is stored here (may be NULL)
 *
 * For failing every in-flight request when a connection goes away: call
 * until it returns NULL.  Requests come out in ascending id order.
 *
 * Context: any.
 *
 * Return: a request the caller now owns, or NULL when the table is empty.
 */
void *rblk_reqid_take_any(struct rblk_reqid_table *t, u64 *id)
{
	unsigned long index = 0;
	unsigned long flags;
	void *req;

	xa_lock_irqsave(&t->xa, flags);
	req = xa_find(&t->xa, &index, U32_MAX, XA_PRESENT);
	if (req)
		__xa_erase(&t->xa, index);
	xa_unlock_irqrestore(&t->xa, flags);
	if (req && id)
		*id = index;
	return req;
}

/**
 * rblk_reqid_destroy() - free a table's internal memory
 * @t: table; the caller drains it with rblk_reqid_take_any() first, the
 *     requests still stored are not touched
 *
 * Context: any.  The table may be reused after rblk_reqid_init().
 */
void rblk_reqid_destroy(struct rblk_reqid_table *t)
{
	xa_destroy(&t->xa);
}
